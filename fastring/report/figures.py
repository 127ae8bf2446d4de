"""Pinned time against loss, and a sweep's metrics against each swept
parameter."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .dists import _label
from .format import missing, fmt_ns
from .runs import is_num, sweep_axes_of
from .style import (LINESTYLES, MARKERS, no_data, ns_axis, param_axis,
                    percent_formatter)
from .table import _param_text, data_missing_fraction, lost, lost_fraction

def lost_or_missing(row: dict) -> float:
    """Events that lost what they should carry: dropped, or recorded with
    their user data zero-filled (nofault's way of losing it)."""
    n = row.get("events", 0)
    return (lost(row) + row.get("data_missing", 0)) / n if n else float("nan")


def pin_loss_figure(Figure, rows: list[dict], params, colors):
    """Each run's longest pin against its events lost or zero-filled."""
    fig = Figure(figsize=(7.5, 5), layout="constrained")
    ax = fig.subplots()
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    multi = len(rows) > len(strategies)
    axes = sweep_axes_of(params)
    xs, ys = [], []
    spots: dict = {}
    for k, s in enumerate(strategies):
        pts = [(r.get("pin_max_ns"), lost_or_missing(r), r) for r in rows
               if r["strategy"] == s]
        pts = [(x, y, r) for x, y, r in pts if not missing(x) and x > 0 and not missing(y)]
        if not pts:
            continue
        if len(axes) == 1 and all(is_num(r.get(axes[0])) for _, _, r in pts):
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
        ns_axis(ax)
    pos = [y for y in ys if y > 0]
    if pos:
        ax.set_yscale("symlog", linthresh=min(min(pos), 1e-4))
        ax.set_ylim(bottom=0, top=min(max(pos) * 2, 1.05))
        ax.yaxis.set_major_formatter(percent_formatter())
    elif ys:
        ax.set_ylim(-0.5, 1)
        no_data(ax, "no event lost or zero-filled in any run")
    ax.set_xlabel("pin max (longest reserve to commit)")
    ax.set_ylabel("events lost or zero-filled\n(lost + data_missing) / events")
    ax.set_title("Pinned buffer time vs events lost")
    ax.grid(True, which="both", alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
    return fig



SWEEP_METRICS = (
    ("events lost (fraction)", lost_fraction, "frac"),
    ("data missing: zero-filled (fraction)", data_missing_fraction, "frac"),
    ("latency p99", lambda r: r.get("latency_p99_ns"), "ns"),
    ("preempt-off max", lambda r: r.get("preempt_off_max_ns"), "ns"),
    ("pin p99 (reserve to commit)", lambda r: r.get("pin_p99_ns"), "ns"),
    ("pin max (reserve to commit)", lambda r: r.get("pin_max_ns"), "ns"),
    ("tracer CPU time per event", lambda r: r.get("cpu_ns_per_event"), "ns"),
)



def sweep_figure(Figure, rows: list[dict], axis: str, others: Sequence[str],
                  colors):
    """Each metric against ``axis``, one line per strategy; runs that differ
    only in ``others`` are summarized by their median (band: min to max)."""
    values = [r.get(axis) for r in rows]
    numeric = all(is_num(v) for v in values)
    if numeric:
        xs_all = sorted(set(values))
        key = lambda v: v                                     # noqa: E731
    else:
        xs_all = sorted(set(map(_param_text, values)))
        pos = {v: i for i, v in enumerate(xs_all)}
        key = lambda v: pos[_param_text(v)]                   # noqa: E731
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    fig = Figure(figsize=(16, 7), layout="constrained")
    axes = fig.subplots(2, 4).ravel()
    notes = []                           # lines drawn over one another
    for ax, (name, get, kind) in zip(axes, SWEEP_METRICS):
        ys_seen = []
        drawn: dict[tuple, list[str]] = {}
        for s in strategies:
            by_x: dict = {}
            for r in rows:
                if r["strategy"] != s:
                    continue
                y = get(r)
                if missing(y):
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
            drawn.setdefault((tuple(xs), tuple(med)), []).append(s)
        ax.set_title(name)
        ax.grid(True, which="both", alpha=0.3)
        same = [" = ".join(g) for g in drawn.values() if len(g) > 1]
        if same and len(drawn) > 1:
            notes.append(f"{name.split(' (')[0]}: " + "; ".join(same))
        pos_y = [y for y in ys_seen if y > 0]
        if ys_seen and not pos_y:
            no_data(ax, f"all zero: {name.split(' (')[0]} in no run")
        elif kind == "frac":
            if pos_y:
                ax.set_yscale("symlog", linthresh=min(min(pos_y), 1e-4))
                ax.set_ylim(bottom=0)
            ax.yaxis.set_major_formatter(percent_formatter())
        else:
            from matplotlib.ticker import FuncFormatter
            if pos_y and max(pos_y) / min(pos_y) > 100 and min(ys_seen) > 0:
                ax.set_yscale("log")
                ns_axis(ax, "y")
            else:
                ax.yaxis.set_major_formatter(
                    FuncFormatter(lambda v, _p: fmt_ns(v)))
        if numeric:
            param_axis(ax, xs_all)
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
        legend_ax.legend(handles, labels, loc="upper center", title="strategy",
                         fontsize=7.5 if notes else 9, ncols=2 if notes else 1)
    if notes:
        import textwrap
        text = "\n".join(textwrap.fill(n, 52, subsequent_indent="  ") for n in notes)
        legend_ax.text(0.5, 0.0, "identical lines (drawn over one another):\n" + text,
                       transform=legend_ax.transAxes, ha="center", va="bottom",
                       fontsize=6.5, color="0.25")
    note = (f"; median over {', '.join(others)} (band: min to max)"
            if others else "")
    fig.suptitle(f"Sweep over {axis}{note}")
    return fig

