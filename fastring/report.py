"""Comparison tables and plots of a results directory (``fastring report``).

:func:`comparison_table` renders the ``runs`` table as the compact text table
``fastring run`` prints, or as Markdown. :func:`make_report` reads a results
directory (``runs.parquet`` or a sweep's ``runs/`` dataset, and
``events.parquet`` when present) and writes PNG plots and ``summary.md``:

- ``latency_cdf.png``, ``preempt_off_cdf.png``: distribution per strategy
  (CDF, and the tail as 1 - CDF, log axes); exact from ``events.parquet``,
  else approximated from the runs' p50/p99/p99.9/max;
- ``pin_vs_loss.png``: pinned time (pin p99) against the fraction of events
  lost, one point per run;
- for a sweep (several runs per strategy differing in some ``section.key``
  columns): ``sweep_<section.key>.png``, each metric against that parameter,
  one line per strategy.

matplotlib (the ``plot`` extra) is imported lazily and used without pyplot
(no global backend switch); without it :class:`MissingExtra` is raised.
"""
from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .config import BUILTIN_STRATEGIES, SCHEMA
from .results import OutputDirError, read_table, table_path


class MissingExtra(RuntimeError):
    """An optional dependency is not installed; the message says how to get it."""


# ---------------------------------------------------------- number format

MICRO = "µ"


def _unit_symbol() -> str:
    enc = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        MICRO.encode(enc)
        return MICRO
    except (UnicodeEncodeError, LookupError):
        return "u"


def _sig3(v: float) -> str:
    """3 significant digits without exponent, trailing zeros dropped."""
    a = abs(v)
    s = f"{v:.0f}" if a >= 99.95 else f"{v:.1f}" if a >= 9.995 else f"{v:.2f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _bad(x) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def fmt_count(x) -> str:
    """1234 -> '1.23k', 3.4e6 -> '3.4M'; integers below 1000 as they are."""
    if _bad(x):
        return "-"
    a = abs(x)
    if a < 1000:
        return str(int(x)) if float(x).is_integer() else _sig3(float(x))
    for div, suf in ((1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T")):
        if a < div * 999.5:
            return _sig3(x / div) + suf
    return _sig3(x / 1e15) + "P"


def fmt_ns(x, micro: str | None = None) -> str:
    """A duration in ns: '850ns', '1.72µs', '12.3ms', '2.5s'."""
    if _bad(x):
        return "-"
    mu = micro if micro is not None else MICRO
    a = abs(x)
    if a == 0:
        return "0"
    for div, suf in ((1, "ns"), (1e3, mu + "s"), (1e6, "ms")):
        if a < div * 999.5:
            return _sig3(x / div) + suf
    return _sig3(x / 1e9) + "s"


def fmt_ratio(x) -> str:
    return "-" if _bad(x) else f"{x:.2f}x"


def fmt_fraction(x) -> str:
    if _bad(x):
        return "-"
    return "0" if x == 0 else _sig3(100 * x) + "%"


# --------------------------------------------------------------- the table

def _div(a, b):
    return a / b if b else float("nan")


def lost_fraction(row: dict) -> float:
    lost = row.get("lost_full", 0) + row.get("lost_wrap", 0) + row.get("lost_big", 0)
    return _div(lost, row.get("events", 0))


#: (group, header, value(row), format kind) of the comparison table
COLUMNS = (
    ("", "events/s", lambda r: r.get("events_per_s"), "count"),
    ("latency", "p50", lambda r: r.get("latency_p50_ns"), "ns"),
    ("latency", "p99", lambda r: r.get("latency_p99_ns"), "ns"),
    ("latency", "max", lambda r: r.get("latency_max_ns"), "ns"),
    ("preempt-off", "max", lambda r: r.get("preempt_off_max_ns"), "ns"),
    ("pin", "p99", lambda r: r.get("pin_p99_ns"), "ns"),
    ("lost", "full", lambda r: r.get("lost_full"), "count"),
    ("lost", "wrap", lambda r: r.get("lost_wrap"), "count"),
    ("lost", "big", lambda r: r.get("lost_big"), "count"),
    ("", "data_missing", lambda r: r.get("data_missing"), "count"),
    ("", "copy amp", lambda r: _div(r.get("copied_bytes", 0),
                                    r.get("payload_bytes", 0)), "ratio"),
    ("", "remote commits", lambda r: r.get("commits_remote"), "count"),
    ("", "cpu ns/event", lambda r: r.get("cpu_ns_per_event"), "ns_plain"),
)

LEGEND = ("events/s: simulator speed (events simulated per wall-clock second); "
          "latency: time the probe adds to the syscall, waits included; "
          "preempt-off max: longest per-event total with preemption off; "
          "pin p99: reserve-to-commit time; lost: events dropped because the "
          "buffer was full (discard mode), the writer wrapped onto a pinned "
          "sub-buffer (overwrite mode), or the record exceeded a sub-buffer; "
          "data_missing: records written zero-filled; copy amp: bytes copied "
          "per payload byte; remote commits: commits made from another CPU than "
          "the reserving one; cpu ns/event: tracer CPU time per event.")


def _format(kind: str, v, micro: str) -> str:
    if kind == "count":
        return fmt_count(v)
    if kind == "ns":
        return fmt_ns(v, micro)
    if kind == "ns_plain":
        return "-" if _bad(v) else _sig3(float(v)) if abs(v) < 1000 else fmt_count(v)
    if kind == "ratio":
        return fmt_ratio(v)
    raise AssertionError(kind)


def _param_text(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    s = str(v)
    return s if len(s) <= 24 else s[:21] + "..."


def comparison_rows(runs, params: Sequence[str] = (), micro: str | None = None):
    """Header cells (group, name) and formatted rows of the comparison table."""
    rows = runs.to_pylist() if isinstance(runs, pa.Table) else list(runs)
    mu = micro if micro is not None else _unit_symbol()
    head = [("", "strategy")] + [("", p) for p in params] + \
        [(g, h) for g, h, _, _ in COLUMNS]
    body = [[str(r.get("strategy", "?"))] + [_param_text(r.get(p)) for p in params]
            + [_format(k, f(r), mu) for _, _, f, k in COLUMNS] for r in rows]
    return head, body


def comparison_table(runs, *, markdown: bool = False,
                     params: Sequence[str] = (), micro: str | None = None) -> str:
    """The comparison table of a ``runs`` table (pyarrow or list of dicts):
    one row per run; ``params`` adds those config columns after the strategy.
    Text: right-aligned columns under a group header line; Markdown: a pipe
    table (``micro`` defaults to 'µ' when stdout can print it)."""
    head, body = comparison_rows(runs, params, micro if micro is not None or not
                                 markdown else MICRO)
    if markdown:
        names = [f"{g} {h}".strip() for g, h in head]
        lines = ["| " + " | ".join(names) + " |",
                 "|" + "|".join([":---"] * (1 + len(params)) +
                                ["---:"] * len(COLUMNS)) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
                  for row in body]
        return "\n".join(lines)
    ncol = len(head)
    width = [max(len(head[i][1]), *(len(r[i]) for r in body)) if body
             else len(head[i][1]) for i in range(ncol)]
    # widen groups whose title is longer than their columns together
    i = 0
    spans = []
    while i < ncol:
        j = i
        while j + 1 < ncol and head[j + 1][0] == head[i][0]:
            j += 1
        spans.append((i, j))
        g = head[i][0]
        if g:
            have = sum(width[i:j + 1]) + 2 * (j - i)
            if len(g) > have:
                width[j] += len(g) - have
        i = j + 1
    left = {0, *range(1, 1 + len(params))}

    def cell(i, text):
        return text.ljust(width[i]) if i in left else text.rjust(width[i])

    group_line = "  ".join(
        (head[i][0].center(sum(width[i:j + 1]) + 2 * (j - i), "-")
         if head[i][0] else " " * (sum(width[i:j + 1]) + 2 * (j - i)))
        for i, j in spans)
    lines = [group_line.rstrip(),
             "  ".join(cell(i, head[i][1]) for i in range(ncol)).rstrip()]
    lines += ["  ".join(cell(i, row[i]) for i in range(ncol)).rstrip()
              for row in body]
    return "\n".join(lines)


# ------------------------------------------------------------ sweep axes

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


# ---------------------------------------------------------------- plotting

def _figure_class():
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtra("fastring report needs matplotlib, which is not "
                           "installed: pip install 'fastring[plot]'") from None
    matplotlib.rcParams.update({"font.size": 9})
    return Figure


def strategy_colors(names: Sequence[str]) -> dict[str, str]:
    """A fixed color per strategy: built-ins always get the same one."""
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    out = {n: palette[i] for i, n in enumerate(BUILTIN_STRATEGIES)}
    extra = [n for n in dict.fromkeys(names) if n not in out]
    for i, n in enumerate(extra):
        out[n] = palette[(len(BUILTIN_STRATEGIES) + i) % len(palette)]
    return out


#: log-spaced bins (0.5% wide) from 0.1 ns to 1e13 ns for exact distributions
_EDGES = 10.0 ** np.linspace(-1, 13, 2801)


class _Dist:
    """A streamed histogram of one column's values for one strategy."""

    def __init__(self):
        self.counts = np.zeros(len(_EDGES) + 1, np.int64)
        self.n = 0

    def add(self, values: np.ndarray):
        v = values[np.isfinite(values)]
        self.counts += np.bincount(np.searchsorted(_EDGES, v, side="right"),
                                   minlength=len(self.counts))
        self.n += len(v)

    def curves(self):
        """(x, cdf) and (x, ccdf = P(X >= x)) over the bins holding values,
        joined by straight lines (bins are 0.5% wide). Values below 0.1 ns
        count in the fractions but are not drawn on the log axis."""
        c = self.counts
        nz = np.nonzero(c[1:-1])[0] + 1
        cum = np.cumsum(c)
        x_cdf = np.concatenate([_EDGES[nz[:1] - 1], _EDGES[nz]])
        y_cdf = np.concatenate([(cum[nz[:1]] - c[nz[:1]]) / self.n, cum[nz] / self.n])
        tail = (self.n - cum[nz] + c[nz]) / self.n
        x_tail = np.concatenate([_EDGES[nz - 1], _EDGES[nz[-1:]]])
        y_tail = np.concatenate([tail, tail[-1:]])
        return (x_cdf, y_cdf), (x_tail, y_tail)

    @property
    def n_bins(self) -> int:
        return int(np.count_nonzero(self.counts[1:-1]))


def _exact_dists(path: Path, column: str) -> dict[str, _Dist]:
    out: dict[str, _Dist] = {}
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(columns=["strategy", column], batch_size=1 << 16):
        strat = batch.column(0).to_numpy(zero_copy_only=False)
        vals = batch.column(1).to_numpy(zero_copy_only=False).astype(float)
        for s in dict.fromkeys(strat):
            out.setdefault(str(s), _Dist()).add(vals[strat == s])
    return out


def _hist_curves(row: dict, metric: str):
    """Exact (within a histogram bin, <= 0.8%) CDF and tail from the run's
    ``<metric>_hist_ns`` / ``<metric>_hist_count`` columns, or None."""
    lo, counts = row.get(f"{metric}_hist_ns"), row.get(f"{metric}_hist_count")
    if not lo or not counts:
        return None
    x = np.asarray(lo, float)
    c = np.asarray(counts, float)
    keep = x > 0                        # the log axis cannot show zero
    n = c.sum()
    cum = np.cumsum(c)
    cdf, tail = cum / n, (n - cum + c) / n
    return (x[keep], cdf[keep]), (x[keep], tail[keep])


def _approx_curves(row: dict, metric: str):
    """CDF and tail points from a run's histogram columns when it has them,
    else from its percentiles: (x, cdf), (x, ccdf)."""
    exact = _hist_curves(row, metric)
    if exact is not None:
        return exact
    n = row.get("events") or 0
    pts = []
    for q, key in ((0.5, "p50"), (0.99, "p99"), (0.999, "p999")):
        v = row.get(f"{metric}_{key}_ns")
        if n and 1 - q > 1 / n and not _bad(v) and v > 0:
            pts.append((v, q))
    mx = row.get(f"{metric}_max_ns")
    if n and not _bad(mx) and mx > 0:
        pts.append((mx, 1.0))
    if not pts:
        return None
    x = np.array([p[0] for p in pts])
    q = np.array([p[1] for p in pts])
    tail = np.where(q >= 1.0, 1.0 / max(n, 1), 1 - q)
    return (x, q), (x, tail)


def _label(row: dict, params: Sequence[str]) -> str:
    return ", ".join(f"{p.split('.', 1)[-1]}={_param_text(row.get(p))}"
                     for p in params)


def _dist_figure(Figure, title: str, metric: str, rows: list[dict],
                 params: Sequence[str], exact: dict[str, _Dist] | None,
                 colors: dict[str, str], xlabel: str):
    """Two panels (CDF, tail) with one line per strategy; or, for several runs
    per strategy, one tail panel per strategy with one line per run."""
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    multi = len(rows) > len(strategies)
    if not multi:
        fig = Figure(figsize=(11, 4.2), layout="constrained")
        ax_cdf, ax_tail = fig.subplots(1, 2)
        for r in rows:
            s = r["strategy"]
            if exact is not None:
                if s not in exact or exact[s].n == 0:
                    continue
                (x1, y1), (x2, y2) = exact[s].curves()
                kw = dict(marker="o", markersize=3) if exact[s].n_bins <= 3 else {}
            else:
                c = _approx_curves(r, metric)
                if c is None:
                    continue
                (x1, y1), (x2, y2) = c
                kw = ({} if f"{metric}_hist_ns" in r
                      else dict(marker="o", markersize=3.5, linestyle="--"))
            ax_cdf.plot(x1, y1, color=colors[s], label=s, **kw)
            ax_tail.plot(x2, y2, color=colors[s], label=s, **kw)
        ax_cdf.set_xscale("log")
        ax_cdf.set_ylim(0, 1.02)
        ax_cdf.set_ylabel("fraction of events ≤ x")
        ax_cdf.set_title("CDF")
        ax_tail.set_xscale("log")
        ax_tail.set_yscale("log")
        ax_tail.set_ylabel("fraction of events ≥ x")
        ax_tail.set_title("tail (1 − CDF)")
        for ax in (ax_cdf, ax_tail):
            ax.set_xlabel(xlabel)
            ax.grid(True, which="major", alpha=0.35)
            ax.grid(True, which="minor", alpha=0.12)
            if ax.lines:
                _ns_axis(ax)
        if ax_cdf.lines:
            ax_cdf.legend(loc="lower right", fontsize=8)
    else:
        ncols = min(3, len(strategies))
        nrows = math.ceil(len(strategies) / ncols)
        fig = Figure(figsize=(4.2 * ncols, 3.3 * nrows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True,
                                          squeeze=False)).ravel()
        import matplotlib as mpl
        best = None
        for ax, s in zip(axes, strategies):
            mine = [r for r in rows if r["strategy"] == s]
            cmap = mpl.colormaps["viridis"]
            for i, r in enumerate(mine):
                c = _approx_curves(r, metric)
                if c is None:
                    continue
                (_, _), (x2, y2) = c
                ax.plot(x2, y2, marker="o", markersize=3, linestyle="--",
                        color=cmap(i / max(len(mine) - 1, 1) * 0.9),
                        label=_label(r, params) or f"run {i}")
            ax.set_title(s, color=colors[s])
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.grid(True, alpha=0.3)
            if ax.lines:
                _ns_axis(ax)
            if len(ax.lines) > len(best.lines if best is not None else ()):
                best = ax
        for ax in axes[len(strategies):]:
            ax.set_visible(False)
        if best is not None:     # runs are in the same order in every panel
            h, lab = best.get_legend_handles_labels()
            if len(h) <= 16:
                fig.legend(h, lab, loc="outside right upper", fontsize=7)
            else:
                fig.text(0.01, 0.01, f"{len(h)} runs per strategy, dark to "
                         f"light: {', '.join(params)} ascending", fontsize=7)
        fig.supxlabel(xlabel)
        fig.supylabel("fraction of events ≥ x")
    fig.suptitle(title)
    return fig


def _pin_loss_figure(Figure, rows: list[dict], params, colors):
    fig = Figure(figsize=(7.5, 5), layout="constrained")
    ax = fig.subplots()
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    multi = len(rows) > len(strategies)
    axes = sweep_axes_of(params)
    xs, ys = [], []
    spots: dict = {}
    for k, s in enumerate(strategies):
        pts = [(r.get("pin_p99_ns"), lost_fraction(r), r) for r in rows
               if r["strategy"] == s]
        pts = [(x, y, r) for x, y, r in pts if not _bad(x) and x > 0 and not _bad(y)]
        if not pts:
            continue
        if len(axes) == 1 and all(_is_num(r.get(axes[0])) for _, _, r in pts):
            pts.sort(key=lambda p: p[2].get(axes[0]))
        xs += [p[0] for p in pts]
        ys += [p[1] for p in pts]
        # shapes differ and earlier strategies are drawn bigger, so runs at
        # the same spot stay visible
        if multi and len(axes) == 1:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], linewidth=0.8,
                    alpha=0.5, color=colors[s], zorder=2)
            for x, y, r in (pts[0], pts[-1]) if len(pts) > 1 else pts[:1]:
                spot = (round(math.log10(x), 1), round(y, 4))
                spots.setdefault(spot, [x, y, []])[2].append(_label(r, axes))
        ax.plot([p[0] for p in pts], [p[1] for p in pts], linestyle="none",
                color=colors[s], marker=MARKERS[k % len(MARKERS)],
                markersize=max(11 - 1.2 * k, 4), markeredgecolor="black",
                markeredgewidth=0.4, label=s, zorder=3 + k)
    for x, y, texts in spots.values():     # one label per spot
        ax.annotate(", ".join(dict.fromkeys(texts)), (x, y),
                    textcoords="offset points", xytext=(7, 5), fontsize=6.5,
                    color="0.25")
    ax.set_xscale("log")
    if xs:       # at least a decade of room, so labels and names fit
        lo, hi = min(xs), max(xs)
        pad = max(math.sqrt(10 / (hi / lo)), 1.6) if hi / lo < 10 else 1.6
        ax.set_xlim(lo / pad, hi * pad * 1.8)
        _ns_axis(ax)
    pos = [y for y in ys if y > 0]
    if pos:
        ax.set_yscale("symlog", linthresh=min(min(pos), 1e-4))
        ax.set_ylim(bottom=0, top=min(max(pos) * 2, 1.05))
    else:
        ax.set_ylim(-0.0005, 0.01)
        ax.text(0.5, 0.5, "no events lost", transform=ax.transAxes,
                ha="center", color="0.4")
    ax.yaxis.set_major_formatter(_percent_formatter())
    ax.set_xlabel("pin p99 (reserve to commit)")
    ax.set_ylabel("events lost (lost_full + lost_wrap + lost_big) / events")
    ax.set_title("Pinned buffer time vs events lost")
    ax.grid(True, which="both", alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
    return fig


def _ns_axis(ax, which: str = "x") -> None:
    """Label a log time axis in ns/µs/ms/s; on an axis spanning less than
    about two decades also label the 2x and 5x minor ticks."""
    from matplotlib.ticker import FuncFormatter, LogLocator
    axis = ax.xaxis if which == "x" else ax.yaxis
    lo, hi = ax.get_xlim() if which == "x" else ax.get_ylim()
    narrow = lo > 0 and hi / lo < 150
    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_ns(v)))
    axis.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10)))

    def minor(v, _p):
        if not narrow or v <= 0:
            return ""
        lead = round(v / 10 ** math.floor(math.log10(v) + 1e-9), 6)
        return fmt_ns(v) if lead in (2.0, 5.0) else ""
    axis.set_minor_formatter(FuncFormatter(minor))


def sweep_axes_of(params: Sequence[str]) -> list[str]:
    return [p for p in params if p not in NOT_AXES]


def _percent_formatter():
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda v, _pos: fmt_fraction(v) if v else "0")


SWEEP_METRICS = (
    ("events lost (fraction)", lost_fraction, "frac"),
    ("latency p99", lambda r: r.get("latency_p99_ns"), "ns"),
    ("preempt-off max", lambda r: r.get("preempt_off_max_ns"), "ns"),
    ("pin p99 (reserve to commit)", lambda r: r.get("pin_p99_ns"), "ns"),
    ("tracer CPU time per event", lambda r: r.get("cpu_ns_per_event"), "ns"),
)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 2)))


def _param_axis(ax, xs: list) -> None:
    """A numeric parameter axis: log when its values span more than two
    decades (symlog when one is 0), ticks at the swept values when few."""
    pos = [x for x in xs if x > 0]
    lo, hi = min(xs), max(xs)
    if pos and max(pos) / min(pos) > 100:
        if lo > 0:
            ax.set_xscale("log")
            ax.set_xlim(lo / 1.6, hi * 1.6)
        else:
            lt = min(pos)
            ax.set_xscale("symlog", linthresh=lt)
            ax.set_xlim(lo - 0.25 * lt if lo < 0 else -0.25 * lt, hi * 1.6)
    if len(xs) <= 8:
        ax.set_xticks(xs, [_param_text(x) for x in xs], fontsize=7.5)
        ax.xaxis.set_minor_locator(_null_locator())


def _null_locator():
    from matplotlib.ticker import NullLocator
    return NullLocator()


def _sweep_figure(Figure, rows: list[dict], axis: str, others: Sequence[str],
                  colors):
    """Each metric against ``axis``, one line per strategy; runs that differ
    only in ``others`` are summarized by their median (band: min to max)."""
    values = [r.get(axis) for r in rows]
    numeric = all(_is_num(v) for v in values)
    if numeric:
        xs_all = sorted(set(values))
        key = lambda v: v                                     # noqa: E731
    else:
        xs_all = sorted(set(map(_param_text, values)))
        pos = {v: i for i, v in enumerate(xs_all)}
        key = lambda v: pos[_param_text(v)]                   # noqa: E731
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    fig = Figure(figsize=(13, 7), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    for ax, (name, get, kind) in zip(axes, SWEEP_METRICS):
        ys_seen = []
        for s in strategies:
            by_x: dict = {}
            for r in rows:
                if r["strategy"] != s:
                    continue
                y = get(r)
                if _bad(y):
                    continue
                by_x.setdefault(key(r.get(axis)), []).append(float(y))
            if not by_x:
                continue
            xs = sorted(by_x)
            med = [float(np.median(by_x[x])) for x in xs]
            k = strategies.index(s)
            ax.plot(xs, med, marker=MARKERS[k % len(MARKERS)], markersize=5,
                    linestyle=LINESTYLES[k % len(LINESTYLES)], linewidth=1.6,
                    color=colors[s], label=s, alpha=0.9)
            if any(len(by_x[x]) > 1 for x in xs):
                ax.fill_between(xs, [min(by_x[x]) for x in xs],
                                [max(by_x[x]) for x in xs],
                                color=colors[s], alpha=0.15, linewidth=0)
            ys_seen += [y for x in xs for y in by_x[x]]
        ax.set_title(name)
        ax.grid(True, which="both", alpha=0.3)
        pos_y = [y for y in ys_seen if y > 0]
        if kind == "frac":
            if pos_y:
                ax.set_yscale("symlog", linthresh=min(min(pos_y), 1e-4))
                ax.set_ylim(bottom=0)
            ax.yaxis.set_major_formatter(_percent_formatter())
        else:
            from matplotlib.ticker import FuncFormatter
            if pos_y and max(pos_y) / min(pos_y) > 100 and min(ys_seen) > 0:
                ax.set_yscale("log")
                _ns_axis(ax, "y")
            else:
                ax.yaxis.set_major_formatter(
                    FuncFormatter(lambda v, _p: fmt_ns(v)))
        if numeric:
            _param_axis(ax, xs_all)
        else:
            ax.set_xticks(range(len(xs_all)), xs_all, rotation=20, fontsize=7)
        ax.set_xlabel(axis)
    legend_ax = axes[len(SWEEP_METRICS)]
    legend_ax.axis("off")
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1:len(SWEEP_METRICS)]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if handles:
        legend_ax.legend(handles, labels, loc="center", title="strategy")
    note = (f"; median over {', '.join(others)} (band: min to max)"
            if others else "")
    fig.suptitle(f"Sweep over {axis}{note}")
    return fig


# ------------------------------------------------------------------ report

def _sorted_rows(runs: pa.Table, params: Sequence[str]) -> list[dict]:
    rows = runs.to_pylist()
    order = {s: i for i, s in enumerate(BUILTIN_STRATEGIES)}
    first = {s: i for i, s in enumerate(dict.fromkeys(r["strategy"] for r in rows))}

    def key(r):
        s = r["strategy"]
        ps = tuple((0, r.get(p), "") if _is_num(r.get(p)) else (1, 0, str(r.get(p)))
                   for p in params)
        return (order.get(s, len(order) + first[s]), ps)
    return sorted(rows, key=key)


def make_report(results_dir, out_dir=None) -> dict[str, Path]:
    """Write the plots and ``summary.md`` of a results directory into
    ``out_dir`` (default: the results directory); returns name -> path.

    Raises FileNotFoundError when there is no ``runs`` table, and
    :class:`MissingExtra` when matplotlib is missing (before writing anything).
    """
    src = Path(results_dir)
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: no such directory")
    if table_path(src, "runs") is None:
        raise FileNotFoundError(f"{src}: no runs.parquet nor runs/ dataset "
                                f"(is this a fastring results directory?)")
    Figure = _figure_class()
    runs = read_table(src, "runs")
    if "strategy" not in runs.column_names:
        raise FileNotFoundError(f"{src}: the runs table has no 'strategy' column")
    params = varying_columns(runs)
    axes = sweep_axes(runs)
    rows = _sorted_rows(runs, params)
    names = list(dict.fromkeys(r["strategy"] for r in rows))
    colors = strategy_colors(names)
    multi = len(rows) > len(names)
    events_path = src / "events.parquet"
    use_events = events_path.is_file() and not multi

    out = Path(out_dir) if out_dir is not None else src
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputDirError(f"output directory {os.fspath(out)!r}: cannot "
                             f"create it: {exc.strerror or exc}") from exc
    written: dict[str, Path] = {}

    def save(name, fig):
        path = out / name
        fig.savefig(path, dpi=110)
        written[name] = path

    how = ("from events.parquet" if use_events else
           "from each run's histogram" if f"latency_hist_ns" in runs.column_names
           else "approximate: from each run's p50 / p99 / p99.9 / max")
    for fname, metric, col, title, xlabel in (
            ("latency_cdf.png", "latency", "latency_ns",
             "Latency added to the syscall", "latency added to the syscall"),
            ("preempt_off_cdf.png", "preempt_off", "preempt_off_ns",
             "Preemption-off time per event", "preempt-off time (ns)")):
        exact = _exact_dists(events_path, col) if use_events else None
        save(fname, _dist_figure(Figure, f"{title} ({how})", metric, rows,
                                 params, exact, colors, xlabel))
    save("pin_vs_loss.png", _pin_loss_figure(Figure, rows, params, colors))
    for a in axes:
        others = [p for p in params if p != a]
        save(f"sweep_{a}.png", _sweep_figure(Figure, rows, a, others, colors))

    md = _summary(src, out, runs, rows, params, axes, written, use_events)
    (out / "summary.md").write_text(md, encoding="utf-8")
    written["summary.md"] = out / "summary.md"
    return written


def _summary(src: Path, out: Path, runs: pa.Table, rows, params, axes,
             written: dict[str, Path], use_events: bool) -> str:
    meta = runs.schema.metadata or {}
    get = lambda k: meta.get(k, b"?").decode()                # noqa: E731
    r0 = rows[0] if rows else {}

    def cfg(key):
        if key in params:
            return "swept"
        distinct = {json.dumps(r.get(key), sort_keys=True) for r in rows}
        return _param_text(r0.get(key)) if len(distinct) <= 1 else "varies"

    names = list(dict.fromkeys(r["strategy"] for r in rows))
    lines = ["# fastring report", "",
             f"Results: `{src}` — {len(rows)} run(s) of {len(names)} "
             f"strateg{'y' if len(names) == 1 else 'ies'} "
             f"({', '.join(names)}); fastring {get(b'fastring.version')}, "
             f"seed {cfg('run.seed')}" + (" (one per sweep cell)" if cfg('run.seed') == "varies" else "") + ".", "",
             f"Setup: {cfg('run.events')} events, {cfg('machine.n_cpus')} CPUs × "
             f"{cfg('machine.tasks_per_cpu')} tasks, buffer {cfg('buffer.n_subbuf')} × "
             f"{cfg('buffer.subbuf_size')} B, mode {cfg('buffer.mode')}; faults "
             f"{cfg('faults.model')} (p_minor {cfg('faults.p_minor')}, p_major "
             f"{cfg('faults.p_major')}), costs profile {cfg('costs.profile')}.", ""]
    if params:
        lines += ["Swept: " + "; ".join(
            f"`{p}` = " + ", ".join(_param_text(v) for v in
                                    sorted(set(runs.column(p).to_pylist()),
                                           key=lambda v: (not _is_num(v), v if _is_num(v) else str(v))))
            for p in params) + ".", ""]
    lines += ["## Comparison", "",
              comparison_table(rows, markdown=True, params=params), "",
              LEGEND, ""]
    rel = lambda p: p.relative_to(out).as_posix()             # noqa: E731
    note = ("exact, from the per-event table" if use_events else
            "from each run's log-linear histogram (bins under 0.8% wide)"
            if "latency_hist_ns" in runs.column_names else
            "approximated from each run's p50, p99, p99.9 and max "
            "(run with `--events-table` for exact curves)")
    sections = [
        ("Latency", "latency_cdf.png",
         f"Latency the probe adds to each syscall, {note}."),
        ("Preemption off", "preempt_off_cdf.png",
         f"Time spent with preemption off per event, {note}."),
        ("Pinned time vs loss", "pin_vs_loss.png",
         "Each run's reserve-to-commit time (p99) against the fraction of "
         "events lost: a writer that sleeps between reserve and commit pins "
         "its sub-buffer and makes the others drop events."),
    ]
    sections += [(f"Sweep: {a}", f"sweep_{a}.png",
                  f"Each metric against `{a}`, one line per strategy.")
                 for a in axes]
    for title, fname, text in sections:
        if fname in written:
            lines += [f"## {title}", "", text, "",
                      f"![{title}]({rel(written[fname])})", ""]
    return "\n".join(lines)
