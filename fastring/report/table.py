"""The comparison table of a ``runs`` table: which columns, and how each of
the output formats (``table``, ``csv``, ``json``, ``markdown``) renders them.

The default columns lead with the tracer's own figures, named as such, and
fit 100 terminal columns; the simulator's speed (``events_per_s``) is not
among them, so that it cannot be mistaken for tracer throughput (``fastring
run`` prints it in a footer line). ``--columns`` picks any of
:data:`COLUMNS` or any column of the runs table by its name.
"""
from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from .format import fmt_count, fmt_fraction, fmt_ns, fmt_ratio, missing, unit_symbol, MICRO, _sig3

FORMATS = ("table", "csv", "json", "markdown")


class ColumnError(ValueError):
    """An unknown ``--columns`` name; the message lists the known ones."""


def _div(a, b):
    return a / b if b else float("nan")


def lost(row: dict) -> int:
    """Records dropped, every cause (data_missing records are not in here:
    they were recorded, zero-filled)."""
    return row.get("lost_full", 0) + row.get("lost_wrap", 0) + row.get("lost_big", 0)


def lost_fraction(row: dict) -> float:
    return _div(lost(row), row.get("events", 0))


def data_missing_fraction(row: dict) -> float:
    return _div(row.get("data_missing", 0), row.get("events", 0))


@dataclass(frozen=True)
class Column:
    """One column: ``key`` is its ``--columns`` name (a runs column, or a
    derived one), ``group``/``header`` its two header lines in text."""
    key: str
    group: str
    header: str
    kind: str                      # count, ns, ns_plain, ratio, fraction, text
    meaning: str
    get: Callable[[dict], object] | None = None

    def value(self, row: dict):
        return self.get(row) if self.get is not None else row.get(self.key)

    @property
    def title(self) -> str:
        return f"{self.group} {self.header}".strip()


def _time(metric: str, q: str, group: str, what: str) -> Column:
    return Column(f"{metric}_{q}_ns", group, q, "ns", what)


COLUMNS: dict[str, Column] = {c.key: c for c in (
    Column("cpu_ns_per_event", "tracer", "ns/event", "ns_plain",
           "tracer CPU time per event (the probe's own cost, in ns)"),
    _time("latency", "p50", "latency", "time the probe adds to the syscall"),
    _time("latency", "p99", "latency", "time the probe adds to the syscall"),
    _time("latency", "p999", "latency", "time the probe adds to the syscall"),
    _time("latency", "max", "latency", "time the probe adds to the syscall"),
    _time("preempt_off", "p99", "preempt-off", "time with preemption off per event"),
    _time("preempt_off", "max", "preempt-off", "time with preemption off per event"),
    _time("pin", "p99", "pin", "reserve-to-commit time (the sub-buffer is pinned)"),
    _time("pin", "max", "pin", "reserve-to-commit time (the sub-buffer is pinned)"),
    Column("lost", "", "lost", "count",
           "records dropped: buffer full, writer wrapped onto a pinned "
           "sub-buffer, or record larger than a sub-buffer", lost),
    Column("lost_fraction", "lost", "frac", "fraction",
           "records dropped, as a fraction of events", lost_fraction),
    Column("data_missing", "data", "missing", "count",
           "records written with their user data zero-filled"),
    Column("data_missing_fraction", "data missing", "frac", "fraction",
           "zero-filled records, as a fraction of events", data_missing_fraction),
    Column("lost_full", "lost", "full", "count", "dropped: buffer full (discard mode)"),
    Column("lost_wrap", "lost", "wrap", "count",
           "dropped: the writer wrapped onto a pinned sub-buffer"),
    Column("lost_big", "lost", "big", "count", "dropped: larger than a sub-buffer"),
    Column("copy_amp", "copy", "amp", "ratio", "bytes copied per payload byte",
           lambda r: _div(r.get("copied_bytes", 0), r.get("payload_bytes", 0))),
    Column("commits_remote", "remote", "commits", "count",
           "commits made from another CPU than the reserving one"),
    Column("events_per_s", "simulator", "events/s", "count",
           "simulator speed: events simulated per wall-clock second "
           "(not a tracer figure)"),
)}

DEFAULT_COLUMNS = ("cpu_ns_per_event", "latency_p99_ns", "latency_max_ns",
                   "preempt_off_max_ns", "pin_p99_ns", "pin_max_ns", "lost",
                   "data_missing")
#: the wider table of summary.md and report.html
REPORT_COLUMNS = ("cpu_ns_per_event", "latency_p50_ns", "latency_p99_ns",
                  "latency_max_ns", "preempt_off_max_ns", "pin_p99_ns",
                  "pin_max_ns", "lost_full", "lost_wrap", "lost_big",
                  "data_missing", "copy_amp", "commits_remote", "events_per_s")


def columns_for(names: Sequence[str] | None, available: Sequence[str] = (),
                option: str = "--columns") -> list[Column]:
    """The columns named (``--columns``): a key of :data:`COLUMNS` or a
    column of the runs table (``available``); raises :class:`ColumnError`."""
    out = []
    for name in names if names else DEFAULT_COLUMNS:
        if name in COLUMNS:
            out.append(COLUMNS[name])
        elif name in available:
            kind = "ns" if name.endswith("_ns") else "text"
            out.append(Column(name, "", name, kind, name))
        else:
            raise ColumnError(
                f"{option}: unknown column {name!r}; allowed: "
                f"{', '.join(COLUMNS)}, or any column of the runs table "
                f"(e.g. latency_p999_ns, restarts, faults_major)")
    return out


def legend(columns: Sequence[Column]) -> str:
    """What the figures mean: one entry per column, or per group of columns
    that share a meaning (latency p50, p99, max: one entry)."""
    seen, parts = set(), []
    for c in columns:
        if c.meaning not in seen:
            seen.add(c.meaning)
            same = [d for d in columns if d.meaning == c.meaning]
            name = c.group if len(same) > 1 and c.group else c.title
            parts.append(f"{name}: {c.meaning}")
    return "; ".join(parts) + "."


def _param_text(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    s = str(v)
    return s if len(s) <= 24 else s[:21] + "..."


def _cell(kind: str, v, micro: str) -> str:
    if kind == "count":
        return fmt_count(v)
    if kind == "ns":
        return fmt_ns(v, micro)
    if kind == "ns_plain":
        return "-" if missing(v) else _sig3(float(v)) if abs(v) < 1000 else fmt_count(v)
    if kind == "ratio":
        return fmt_ratio(v)
    if kind == "fraction":
        return fmt_fraction(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return fmt_count(v)
    return _param_text(v)


def _rows(runs) -> list[dict]:
    return runs.to_pylist() if isinstance(runs, pa.Table) else list(runs)


def render(runs, fmt: str = "table", *, columns: Sequence[str] | None = None,
           params: Sequence[str] = (), micro: str | None = None) -> str:
    """The comparison of a ``runs`` table (pyarrow or list of dicts), one row
    per run, in ``fmt``: ``table`` (aligned text under group headers),
    ``markdown`` (a pipe table), ``csv`` or ``json`` (raw values, keyed by
    column name). ``params`` adds those config columns after the strategy."""
    if fmt not in FORMATS:
        raise ColumnError(f"--format: unknown format {fmt!r}; allowed: "
                          f"{', '.join(FORMATS)}")
    rows = _rows(runs)
    available = runs.column_names if isinstance(runs, pa.Table) else (
        list(rows[0]) if rows else [])
    cols = columns_for(columns, available)
    if fmt in ("csv", "json"):
        return _machine(rows, cols, params, fmt)
    mu = micro if micro is not None else (MICRO if fmt == "markdown" else unit_symbol())
    head, body = cells(rows, cols, params, mu)
    if fmt == "markdown":
        return _markdown(head, body, 1 + len(params))
    return _text(head, body, 1 + len(params))


def cells(rows: list[dict], cols: Sequence[Column], params: Sequence[str] = (),
          micro: str = MICRO) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """Header cells (group, name) and formatted rows: what every human
    format (text, Markdown, HTML) lays out."""
    head = [("", "strategy")] + [("", p) for p in params] + [(c.group, c.header) for c in cols]
    body = [[str(r.get("strategy", "?"))] + [_param_text(r.get(p)) for p in params]
            + [_cell(c.kind, c.value(r), micro) for c in cols] for r in rows]
    return head, body


def _plain(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _machine(rows, cols, params, fmt) -> str:
    keys = ["strategy", *params, *(c.key for c in cols)]
    records = [{"strategy": r.get("strategy"), **{p: r.get(p) for p in params},
                **{c.key: _plain(c.value(r)) for c in cols}} for r in rows]
    if fmt == "json":
        return json.dumps(records, indent=1)
    return csv_text(keys, records)


def csv_text(keys: Sequence[str], records: Sequence[dict]) -> str:
    """Records as CSV under a header of ``keys``; None as an empty field."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(keys)
    for rec in records:
        w.writerow(["" if rec[k] is None else rec[k] for k in keys])
    return buf.getvalue().rstrip("\n")


def _markdown(head, body, n_left) -> str:
    names = [f"{g} {h}".strip() for g, h in head]
    lines = ["| " + " | ".join(names) + " |",
             "|" + "|".join([":---"] * n_left + ["---:"] * (len(head) - n_left)) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
              for row in body]
    return "\n".join(lines)


def _text(head, body, n_left) -> str:
    ncol = len(head)
    width = [max(len(head[i][1]), *(len(r[i]) for r in body)) if body
             else len(head[i][1]) for i in range(ncol)]
    spans, i = [], 0           # runs of adjacent columns under one group title
    while i < ncol:
        j = i
        while j + 1 < ncol and head[i][0] and head[j + 1][0] == head[i][0]:
            j += 1
        spans.append((i, j))
        g = head[i][0]
        have = sum(width[i:j + 1]) + 2 * (j - i)
        if g and len(g) > have:          # widen to fit the group title
            width[j] += len(g) - have
        i = j + 1

    def cell(i, text):
        return text.ljust(width[i]) if i < n_left else text.rjust(width[i])

    def group(i, j):
        w, g = sum(width[i:j + 1]) + 2 * (j - i), head[i][0]
        if not g:
            return " " * w
        return g.center(w, "-") if j > i else g.rjust(w)

    lines = ["  ".join(group(i, j) for i, j in spans).rstrip(),
             "  ".join(cell(i, head[i][1]) for i in range(ncol)).rstrip()]
    lines += ["  ".join(cell(i, row[i]) for i in range(ncol)).rstrip() for row in body]
    return "\n".join(lines)


def comparison_table(runs, *, markdown: bool = False, params: Sequence[str] = (),
                     micro: str | None = None,
                     columns: Sequence[str] | None = None) -> str:
    """:func:`render` as text or Markdown (kept for callers of 0.2)."""
    return render(runs, "markdown" if markdown else "table", columns=columns,
                  params=params, micro=micro)
