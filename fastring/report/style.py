"""Shared look of the plots: matplotlib loaded lazily (the ``plot`` extra),
one fixed colour, marker and line style per strategy, and axes labelled in
the units of the table (ns/µs/ms, percentages that never read "0%" for a
small non-zero fraction)."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..config import BUILTIN_STRATEGIES
from .format import fmt_fraction, fmt_ns
from .table import _param_text


class MissingExtra(RuntimeError):
    """An optional dependency is not installed; the message says how to get it."""

def figure_class():
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




def ns_axis(ax, which: str = "x") -> None:
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



def percent_formatter():
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda v, _pos: fmt_fraction(v) if v else "0")



MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 2)))


def param_axis(ax, xs: list) -> None:
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
        ax.xaxis.set_minor_locator(null_locator())


def null_locator():
    from matplotlib.ticker import NullLocator
    return NullLocator()



def no_data(ax, text: str) -> None:
    """Say so on an empty or all-zero panel instead of drawing a
    meaningless axis."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
            color="0.35", fontsize=9, wrap=True)
    ax.set_yticks([])
