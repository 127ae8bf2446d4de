"""What a runs table holds beyond the metrics: its config columns, which of
them vary between runs of one strategy (a sweep's axes, or seeds), and the
order rows are shown in."""
from __future__ import annotations

import json
from collections.abc import Sequence

import pyarrow as pa

from ..config import BUILTIN_STRATEGIES, SCHEMA

NOT_AXES = ("run.seed", "run.strategies", "run.chunk_events")


def config_columns(runs: pa.Table) -> list[str]:
    """The flattened config columns (``section.key``, and whole sections such
    as ``strategies`` stored as JSON)."""
    return [c for c in runs.column_names if "." in c or c in SCHEMA]


def varying_columns(runs: pa.Table) -> list[str]:
    """Config columns whose value differs between rows of the same strategy:
    the swept parameters of a sweep (empty for a plain run). ``run.seed`` is
    left out when the other columns already tell the rows apart (a sweep
    derives one seed per cell); it stays when it labels replicates."""
    if "strategy" not in runs.column_names or runs.num_rows == 0:
        return []
    strat = runs.column("strategy").to_pylist()
    values = {c: [json.dumps(v, sort_keys=True) for v in runs.column(c).to_pylist()]
              for c in config_columns(runs)}
    out = []
    for c, vals in values.items():
        seen: dict = {}
        for s, v in zip(strat, vals):
            seen.setdefault(s, set()).add(v)
        if any(len(vs) > 1 for vs in seen.values()):
            out.append(c)
    if "run.seed" in out and len(out) > 1:
        others = [c for c in out if c != "run.seed"]
        keys = list(zip(strat, *(values[c] for c in others)))
        if len(set(keys)) == len(keys):
            out.remove("run.seed")
    return out


def sweep_axes(runs: pa.Table) -> list[str]:
    """The swept parameters worth a plot (seed and bookkeeping keys left out)."""
    return sweep_axes_of(varying_columns(runs))



def sweep_axes_of(params: Sequence[str]) -> list[str]:
    return [p for p in params if p not in NOT_AXES]



def is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)



def sorted_rows(runs: pa.Table, params: Sequence[str]) -> list[dict]:
    rows = runs.to_pylist()
    order = {s: i for i, s in enumerate(BUILTIN_STRATEGIES)}
    first = {s: i for i, s in enumerate(dict.fromkeys(r["strategy"] for r in rows))}

    def key(r):
        s = r["strategy"]
        ps = tuple((0, r.get(p), "") if is_num(r.get(p)) else (1, 0, str(r.get(p)))
                   for p in params)
        return (order.get(s, len(order) + first[s]), ps)
    return sorted(rows, key=key)

