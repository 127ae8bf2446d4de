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
from .style import ns_axis
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


def dist_figure(Figure, title: str, metric: str, rows: list[dict],
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
                ns_axis(ax)
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
                ns_axis(ax)
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

