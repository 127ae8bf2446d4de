"""A short verdict under the table: the best strategy per criterion, with
its number and the runner-up, and the strategies on the Pareto front of all
criteria (those no other strategy beats on one criterion without losing on
another). Lower is better everywhere.

With several runs per strategy (seeds, a sweep) each strategy is judged by
the median of its runs, and the verdict says so.
"""
from __future__ import annotations

import statistics
import textwrap
from collections.abc import Sequence

from .format import fmt_count, fmt_fraction, fmt_ns
from .table import data_missing_fraction, lost, lost_fraction

#: (label, value(row), value as text, "none" is the goal: list who fails)
CRITERIA = (
    ("least tracer CPU", lambda r: r.get("cpu_ns_per_event"),
     lambda v, r, mu: f"{fmt_ns(v, mu)}/event", False),
    ("shortest preempt-off", lambda r: r.get("preempt_off_max_ns"),
     lambda v, r, mu: f"{fmt_ns(v, mu)} max", False),
    ("no data lost", lambda r: r.get("data_missing"),
     lambda v, r, mu: f"{fmt_count(v)} zero-filled ({fmt_fraction(data_missing_fraction(r))})",
     True),
    ("fewest records lost", lost,
     lambda v, r, mu: f"{fmt_count(v)} lost ({fmt_fraction(lost_fraction(r))})", True),
    ("shortest pin", lambda r: r.get("pin_max_ns"),
     lambda v, r, mu: f"{fmt_ns(v, mu)} max", False),
)
WIDTH = 100


def _per_strategy(rows: Sequence[dict]) -> tuple[dict[str, dict], int]:
    """strategy -> one row (its median over runs, per criterion)."""
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(str(r.get("strategy")), []).append(r)
    n = max((len(v) for v in by.values()), default=0)
    out = {}
    for s, rs in by.items():
        if len(rs) == 1:
            out[s] = rs[0]
            continue
        med = {"strategy": s, "events": statistics.median(r.get("events", 0) for r in rs)}
        for k in ("cpu_ns_per_event", "preempt_off_max_ns", "data_missing",
                  "lost_full", "lost_wrap", "lost_big", "pin_max_ns"):
            vals = [r.get(k) for r in rs if r.get(k) is not None]
            med[k] = statistics.median(vals) if vals else None
        out[s] = med
    return out, n


def _value(get, row):
    v = get(row)
    return None if v is None or v != v else float(v)


def pareto_front(rows: Sequence[dict]) -> list[str]:
    """Strategies not dominated on the :data:`CRITERIA` (a strategy with a
    missing value on a criterion is compared on the others)."""
    per, _ = _per_strategy(rows)
    vec = {s: [_value(get, r) for _, get, _, _ in CRITERIA] for s, r in per.items()}

    def dominates(a, b):
        pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
        return bool(pairs) and all(x <= y for x, y in pairs) and any(x < y for x, y in pairs)
    return [s for s in vec if not any(dominates(vec[o], vec[s]) for o in vec if o != s)]


def _names(names: list[str]) -> str:
    return ", ".join(names)


def _judge(per: dict[str, dict], get, show, zero_goal: bool, mu: str) -> str:
    vals = {s: _value(get, r) for s, r in per.items()}
    vals = {s: v for s, v in vals.items() if v is not None}
    if not vals:
        return ""
    best = min(vals.values())
    top = [s for s, v in vals.items() if v == best]
    rest = sorted((s for s in vals if vals[s] != best), key=vals.get)
    if zero_goal and best == 0:
        if not rest:
            return "every strategy: none"
        fails = ", ".join(f"{s} {show(vals[s], per[s], mu)}" for s in reversed(rest))
        return f"{_names(top)}; not: {fails}"
    who = "every strategy:" if not rest and len(top) > 1 else _names(top)
    text = f"{who} {show(best, per[top[0]], mu)}"
    if rest:
        nxt, worst = rest[0], rest[-1]
        text += f" (next {nxt} {show(vals[nxt], per[nxt], mu)}"
        if worst != nxt:
            text += f"; worst {worst} {show(vals[worst], per[worst], mu)}"
        text += ")"
    return text


def verdict_lines(rows: Sequence[dict], micro: str = "µ") -> list[str]:
    """The verdict, one line per criterion (wrapped to 100 columns)."""
    per, n = _per_strategy(rows)
    if len(per) < 2:
        return []
    out = ["Verdict (lower is better" + (
        f"; median of {n} runs per strategy)" if n > 1 else ")") + ":"]
    items = [(label, _judge(per, get, show, zero, micro))
             for label, get, show, zero in CRITERIA]
    front = pareto_front(rows)
    items.append(("Pareto front", "every strategy (none is beaten on all five "
                  "criteria by another)" if len(front) == len(per) else
                  _names(front) + " (no other strategy is as good on all five "
                  "criteria and better on one)"))
    for label, text in items:
        if text:
            out += textwrap.wrap(text, WIDTH, initial_indent=f"  {label:<22}",
                                 subsequent_indent=" " * 24)
    return out


def verdict(rows: Sequence[dict], micro: str = "µ") -> str:
    return "\n".join(verdict_lines(rows, micro))
