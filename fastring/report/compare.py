"""``fastring compare A B [...]``: results side by side.

Each side is a results directory (``fastring run --out`` or a sweep), or
several joined with commas (``a1,a2,a3``: e.g. the same config run with
several seeds). Rows are matched by strategy and by the values of the swept
parameters (a sweep's axes; ``run.seed`` is never one: rows that differ only
in their seed are replicates of one another). For every matched row and
metric the comparison gives each side's value, the absolute and relative
change from the first side (the baseline), and, where both sides hold two or
more seeds, whether the difference exceeds the seed-to-seed spread: ``yes``
when the two sides' ranges over their seeds do not overlap, ``no`` when they
do (a difference within what another seed could give).

Values with several seeds are their mean. Above the table: each side's
source and the config keys whose values differ between the sides.
"""
from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from .format import fmt_fraction, missing
from .runs import NOT_AXES, config_columns, sorted_rows, varying_columns
from .table import _cell, _markdown, _param_text, _text, columns_for, csv_text
from ..io.results import read_table, table_path

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class CompareError(ValueError):
    """A side that is not a results directory, or sides that share nothing."""


@dataclass
class Side:
    """One side of a comparison: its rows and where they came from."""
    label: str
    source: str
    runs: pa.Table

    @property
    def rows(self) -> list[dict]:
        return self.runs.to_pylist()


def load_side(spec: str, label: str = "") -> Side:
    """A side from ``DIR`` or ``DIR,DIR,...`` (their runs tables joined)."""
    tables = []
    for d in [p for p in spec.split(",") if p]:
        if not Path(d).is_dir():
            raise CompareError(f"{d}: no such directory")
        if table_path(d, "runs") is None:
            raise CompareError(f"{d}: no runs.parquet nor runs/ dataset (is this "
                               f"a fastring results directory?)")
        tables.append(read_table(d, "runs").replace_schema_metadata(None))
    if not tables:
        raise CompareError(f"{spec!r}: not a results directory")
    runs = pa.concat_tables(tables, promote_options="permissive")
    if "strategy" not in runs.column_names:
        raise CompareError(f"{spec}: the runs table has no 'strategy' column")
    return Side(label, spec, runs)


def _axes(sides: Sequence[Side]) -> list[str]:
    axes = []
    for s in sides:
        axes += [c for c in varying_columns(s.runs) if c not in NOT_AXES]
    return list(dict.fromkeys(axes))


def _key(row: dict, axes: Sequence[str]) -> tuple:
    return (row.get("strategy"), *(json.dumps(row.get(a), sort_keys=True) for a in axes))


def config_differences(sides: Sequence[Side]) -> list[tuple[str, list[str]]]:
    """(key, one text per side) for the config keys that differ between sides
    (``varies`` where a side holds several values)."""
    out = []
    cols = list(dict.fromkeys(c for s in sides for c in config_columns(s.runs)))
    for c in cols:
        if c == "run.seed":
            continue
        texts = []
        for s in sides:
            vals = ({json.dumps(v, sort_keys=True) for v in s.runs.column(c).to_pylist()}
                    if c in s.runs.column_names else {"null"})
            texts.append(_param_text(json.loads(next(iter(vals)))) if len(vals) == 1
                         else "varies")
        if len(set(texts)) > 1:
            out.append((c, texts))
    seeds = [sorted({r.get("run.seed") for r in s.rows}) for s in sides]
    if len({json.dumps(x) for x in seeds}) > 1:
        out.append(("run.seed", [", ".join(map(str, x)) if len(x) <= 4 else
                                 f"{len(x)} seeds" for x in seeds]))
    return out


@dataclass
class Cell:
    """One metric of one matched row on one side."""
    values: list[float]

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def n(self) -> int:
        return len(self.values)


def _values(rows: list[dict], col) -> Cell:
    vals = [col.value(r) for r in rows]
    return Cell([float(v) for v in vals if v is not None and not missing(v)])


def beyond_spread(a: Cell, b: Cell) -> bool | None:
    """With two or more seeds on both sides: do their ranges not overlap?"""
    if a.n < 2 or b.n < 2:
        return None
    return max(a.values) < min(b.values) or max(b.values) < min(a.values)


def comparison(sides: Sequence[Side], metrics: Sequence[str] | None = None) -> dict:
    """The comparison as data: ``axes``, ``differences``, ``records`` (one
    per matched row, metric and side after the first) and ``unmatched``."""
    if len(sides) < 2:
        raise CompareError(f"compare: needs two or more sides, got {len(sides)}")
    common = set.intersection(*(set(s.runs.column_names) for s in sides))
    cols = columns_for(metrics, sorted(common), option="--metrics")
    axes = _axes(sides)
    groups = []
    for s in sides:
        g: dict[tuple, list[dict]] = {}
        for r in sorted_rows(s.runs, axes):
            g.setdefault(_key(r, axes), []).append(r)
        groups.append(g)
    keys = [k for k in groups[0] if all(k in g for g in groups[1:])]
    unmatched = sorted({k for g in groups for k in g} - set(keys), key=str)
    if not keys:
        raise CompareError("compare: the sides share no strategy (and swept "
                           "values): nothing to compare")
    records = []
    for k in keys:
        for col in cols:
            base = _values(groups[0][k], col)
            for s, g in zip(sides[1:], groups[1:]):
                other = _values(g[k], col)
                a, b = base.mean, other.mean
                change = None if a is None or b is None else b - a
                rel = None if change is None or a == 0 else change / abs(a)
                records.append({
                    "strategy": k[0], **{ax: json.loads(v) for ax, v in zip(axes, k[1:])},
                    "metric": col.key, "kind": col.kind, "title": col.title,
                    "baseline": sides[0].label, "side": s.label,
                    "baseline_value": a, "value": b, "change": change,
                    "relative_change": rel, "baseline_seeds": base.n,
                    "seeds": other.n, "beyond_seed_spread": beyond_spread(base, other)})
    return {"axes": axes, "differences": config_differences(sides),
            "records": records, "unmatched": unmatched}


def _signed(kind: str, v, micro: str) -> str:
    if v is None:
        return "-"
    if v == 0:
        return "0"
    text = _cell(kind if kind != "ratio" else "ns_plain", abs(v), micro)
    return ("+" if v > 0 else "-") + text


def _rel(v) -> str:
    if v is None:
        return "-"
    return "0" if v == 0 else ("+" if v > 0 else "-") + fmt_fraction(abs(v))


def compare(sides: Sequence[Side], *, metrics: Sequence[str] | None = None,
            fmt: str = "table", micro: str = "µ") -> str:
    """The comparison in ``fmt`` (``table``, ``markdown``, ``csv``, ``json``)."""
    for i, s in enumerate(sides):
        s.label = s.label or LETTERS[i % len(LETTERS)]
    data = comparison(sides, metrics)
    recs = data["records"]
    if fmt == "json":
        return json.dumps({"sides": {s.label: s.source for s in sides},
                           "config_differences": {k: dict(zip((s.label for s in sides), v))
                                                  for k, v in data["differences"]},
                           "rows": [{k: v for k, v in r.items() if k not in ("kind", "title")}
                                    for r in recs]}, indent=1)
    if fmt == "csv":
        keys = [k for k in recs[0] if k not in ("kind", "title")] if recs else []
        return csv_text(keys, recs)
    return _human(sides, data, fmt, micro)


def _human(sides, data, fmt, micro) -> str:
    recs, axes = data["records"], data["axes"]
    spread = any(r["beyond_seed_spread"] is not None for r in recs)
    base = sides[0].label
    head = [("", "strategy"), *(("", a) for a in axes), ("", "metric"), ("", base)]
    for s in sides[1:]:
        head += [("", s.label), (f"{s.label} - {base}", "change"), (f"{s.label} - {base}", "%")]
        if spread:
            head.append((f"{s.label} - {base}", "beyond seeds"))
    body = []
    per_row: dict[tuple, list[dict]] = {}
    for r in recs:
        per_row.setdefault((r["strategy"], *(json.dumps(r[a]) for a in axes), r["metric"]),
                           []).append(r)
    for rs in per_row.values():
        r0 = rs[0]
        row = [r0["strategy"], *(_param_text(r0[a]) for a in axes), r0["title"],
               _cell(r0["kind"], r0["baseline_value"], micro)]
        for r in rs:
            row += [_cell(r["kind"], r["value"], micro), _signed(r["kind"], r["change"], micro),
                    _rel(r["relative_change"])]
            if spread:
                b = r["beyond_seed_spread"]
                row.append("-" if b is None else "yes" if b else "no")
        body.append(row)
    n_left = 2 + len(axes)
    table = _markdown(head, body, n_left) if fmt == "markdown" else _text(head, body, n_left)
    lines = [f"{s.label}: {s.source} ({s.runs.num_rows} run"
             f"{'s' if s.runs.num_rows != 1 else ''})" for s in sides]
    diffs = data["differences"]
    if diffs:
        lines.append("config keys that differ:")
        lines += [f"  {k}: " + " | ".join(f"{s.label} {v}" for s, v in zip(sides, texts))
                  for k, texts in diffs]
    else:
        lines.append("config: the same on every side")
    if data["unmatched"]:
        lines.append(f"not on every side (left out): "
                     f"{', '.join(' '.join(map(str, k)) for k in data['unmatched'][:8])}"
                     + (" ..." if len(data["unmatched"]) > 8 else ""))
    sep = "\n\n" if fmt == "markdown" else "\n"
    note = ("" if not spread else
            "\nbeyond seeds: yes when the two sides' ranges over their seeds do not "
            "overlap; values are means over the seeds")
    return sep.join(lines) + "\n\n" + table + note
