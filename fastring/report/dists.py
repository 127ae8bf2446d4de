"""Distribution plots (latency, preemption-off time): CDF and tail per
strategy, exact from ``events.parquet``, else from each run's histogram
columns, else approximated from its percentiles."""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from .format import missing
from .runs import is_num
from .style import LINESTYLES, MARKERS, no_data, ns_axis
from .table import _param_text

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
        """(x, cdf) and (x, ccdf = P(X >= x)) at the lower edge of each bin
        holding values, to draw as steps (bins are 0.5% wide). Values below
        0.1 ns count in the fractions but are not drawn on the log axis."""
        c = self.counts
        nz = np.nonzero(c[1:-1])[0] + 1
        cum = np.cumsum(c)
        x = _EDGES[nz - 1]
        return _with_rise(x, cum[nz] / self.n), (x, (self.n - cum[nz] + c[nz]) / self.n)

    @property
    def n_bins(self) -> int:
        return int(np.count_nonzero(self.counts[1:-1]))


def exact_dists(path: Path, column: str) -> dict[str, _Dist]:
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
    return _with_rise(x[keep], cdf[keep]), (x[keep], tail[keep])


def _with_rise(x, cdf):
    """The CDF's steps starting from 0 at the first value, so a distribution
    in one bin still shows its rise."""
    if not len(x):
        return x, cdf
    return np.concatenate([x[:1], x]), np.concatenate([[0.0], cdf])


def _approx_curves(row: dict, metric: str):
    """CDF and tail points from a run's percentiles (result files without
    histogram columns): (x, cdf), (x, ccdf)."""
    n = row.get("events") or 0
    pts = []
    for q, key in ((0.5, "p50"), (0.99, "p99"), (0.999, "p999")):
        v = row.get(f"{metric}_{key}_ns")
        if n and 1 - q > 1 / n and not missing(v) and v > 0:
            pts.append((v, q))
    mx = row.get(f"{metric}_max_ns")
    if n and not missing(mx) and mx > 0:
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


def _curves(row: dict, metric: str, exact: dict[str, _Dist] | None):
    """((x, cdf), (x, tail), steps?) of one run, or None: steps for
    histograms, points joined by dashes for percentiles."""
    if exact is not None:
        d = exact.get(row["strategy"])
        return None if d is None or d.n == 0 else (*d.curves(), True)
    c = _hist_curves(row, metric)
    if c is not None:
        return (*c, True)
    c = _approx_curves(row, metric)
    return None if c is None else (*c, False)


def _draw(ax, x, y, steps: bool, **kw):
    if steps:
        ax.step(x, y, where="post", **kw)
    else:
        ax.plot(x, y, linestyle=kw.pop("linestyle", "--"), marker="o",
                markersize=3.5, **kw)


def dist_figure(Figure, title: str, metric: str, rows: list[dict],
                params: Sequence[str], exact: dict[str, _Dist] | None,
                colors: dict[str, str], xlabel: str):
    """Two panels (CDF, tail) with one line per strategy; or, for several runs
    per strategy, one tail panel per strategy with one line per run."""
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    if len(rows) > len(strategies):
        fig = _runs_figure(Figure, metric, rows, params, strategies, colors, xlabel)
    else:
        fig = _strategies_figure(Figure, metric, rows, exact, colors, xlabel)
    fig.suptitle(title)
    return fig


def _strategies_figure(Figure, metric, rows, exact, colors, xlabel):
    """One line per strategy; each its own colour, dash pattern and marker,
    and a strategy whose curve is the same as an earlier one's says so in
    the legend (it would hide under it)."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_cdf, ax_tail = fig.subplots(1, 2)
    seen: dict[bytes, str] = {}
    for k, r in enumerate(rows):
        s = r["strategy"]
        c = _curves(r, metric, exact)
        if c is None:
            continue
        (x1, y1), (x2, y2), steps = c
        key = np.concatenate([x1, y1]).tobytes()
        label = s if key not in seen else f"{s} (same as {seen[key]})"
        seen.setdefault(key, s)
        kw = dict(color=colors[s], linestyle=LINESTYLES[k % len(LINESTYLES)],
                  linewidth=1.5 if k else 2.0, label=label)
        if steps:
            kw.update(marker=MARKERS[k % len(MARKERS)], markersize=4,
                      markevery=(0.02 * k, 0.12))
        _draw(ax_cdf, x1, y1, steps, **kw)
        _draw(ax_tail, x2, y2, steps, **kw)
    ax_cdf.set_ylim(0, 1.02)
    ax_cdf.set_ylabel("fraction of events ≤ x")
    ax_cdf.set_title("CDF")
    ax_tail.set_yscale("log")
    ax_tail.set_ylabel("fraction of events ≥ x")
    ax_tail.set_title("tail (1 − CDF)")
    for ax in (ax_cdf, ax_tail):
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.grid(True, which="major", alpha=0.35)
        ax.grid(True, which="minor", alpha=0.12)
        if ax.lines:
            ns_axis(ax)
        else:
            no_data(ax, "no values to plot")
    if ax_cdf.lines:
        ax_cdf.legend(loc="lower right", fontsize=8)
    return fig


def _colour_axis(rows: list[dict], params: Sequence[str]):
    """The swept parameter the colours follow (the numeric one with the most
    values), its norm, and the other parameters (told apart by dashes)."""
    import matplotlib as mpl
    numeric = [p for p in params if all(is_num(r.get(p)) for r in rows)]
    if not numeric:
        return None, None, list(params)
    axis = max(numeric, key=lambda p: len({r.get(p) for r in rows}))
    vals = [float(r[axis]) for r in rows]
    lo, hi = min(vals), max(vals)
    norm = (mpl.colors.LogNorm(lo, hi) if lo > 0 and hi / lo > 100
            else mpl.colors.Normalize(lo, hi if hi > lo else lo + 1))
    return axis, norm, [p for p in params if p != axis]


def _runs_figure(Figure, metric, rows, params, strategies, colors, xlabel):
    """One tail panel per strategy, one line per run: the colour follows a
    swept parameter (colour bar), dash patterns tell the others apart."""
    import matplotlib as mpl
    ncols = min(3, len(strategies))
    nrows = math.ceil(len(strategies) / ncols)
    fig = Figure(figsize=(4.2 * ncols + 1.2, 3.3 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True,
                                      squeeze=False)).ravel()
    cmap = mpl.colormaps["viridis"]
    axis, norm, others = _colour_axis(rows, params)
    styles = {}
    for r in rows:
        styles.setdefault(_label(r, others), LINESTYLES[len(styles) % len(LINESTYLES)])
    for ax, s in zip(axes, strategies):
        mine = [r for r in rows if r["strategy"] == s]
        shapes = set()
        for i, r in enumerate(mine):
            c = _curves(r, metric, None)
            if c is None:
                continue
            _, (x2, y2), steps = c
            shapes.add(np.concatenate([x2, y2]).tobytes())
            colour = (cmap(norm(float(r[axis])) * 0.92) if axis
                      else cmap(i / max(len(mine) - 1, 1) * 0.92))
            # earlier runs drawn wider: one covering another still shows its edge
            _draw(ax, x2, y2, steps, color=colour,
                  linewidth=2.6 - 1.8 * i / max(len(mine) - 1, 1),
                  linestyle=styles[_label(r, others)])
        alike = len(shapes) == 1 and len(mine) > 1     # drawn over one another
        ax.set_title(s + (f" (all {len(mine)} runs alike)" if alike else ""),
                     color=colors[s])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ns_axis(ax)
        else:
            no_data(ax, "no values to plot")
    for ax in axes[len(strategies):]:
        ax.set_visible(False)
    if axis:
        bar = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap),
                           ax=list(axes[:len(strategies)]), shrink=0.8)
        bar.set_label(axis)
    if len(styles) > 1:
        from matplotlib.lines import Line2D
        handles = [Line2D([], [], color="0.3", linestyle=ls) for ls in styles.values()]
        fig.legend(handles, list(styles), loc="outside right lower", fontsize=7)
    fig.supxlabel(xlabel)
    fig.supylabel("fraction of events ≥ x")
    return fig
