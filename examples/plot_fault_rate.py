"""Plot the sweep of examples/fault_rate_grid.toml: loss, latency p99 and
longest preempt-off time of each strategy against the major-fault rate, one
row of panels per buffer mode.

    fastring sweep examples/fault_rate_grid.toml --out results/sweep
    python examples/plot_fault_rate.py results/sweep [-o fault_rate.png]

"Loss" counts both ways a record can lose what it should carry: the event is
dropped (lost_full + lost_wrap + lost_big) or recorded with its user data
zero-filled (data_missing, the fate of ``nofault``), as a fraction of events.
"""
from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from _sweep_plot import lost, sweep_rows  # noqa: E402 (beside this file)

PANELS = (
    ("loss (events lost or data missing)", "fraction of events",
     lambda r: (lost(r) + r["data_missing"]) / max(r["events"], 1)),
    ("added latency p99", "ns", lambda r: r["latency_p99_ns"]),
    ("longest preempt-off time", "ns", lambda r: r["preempt_off_max_ns"]),
)


def main(argv=None) -> int:
    rows, out = sweep_rows(__doc__, "results/sweep", "fault_rate.png", argv)
    modes = sorted({r["buffer.mode"] for r in rows})
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    fig, axes = plt.subplots(len(modes), len(PANELS), squeeze=False,
                             figsize=(5 * len(PANELS), 3.6 * len(modes)))
    for i, mode in enumerate(modes):
        for j, (title, unit, value) in enumerate(PANELS):
            ax = axes[i][j]
            for s in strategies:
                pts = sorted((r["faults.p_major"], value(r)) for r in rows
                             if r["strategy"] == s and r["buffer.mode"] == mode)
                ax.plot([p for p, _ in pts], [v for _, v in pts], marker="o",
                        markersize=3, label=s)
            ax.set_xscale("log")
            ax.set_yscale("symlog" if j == 0 else "log",
                          **({"linthresh": 1e-6} if j == 0 else {}))
            if j == 0:
                ax.set_ylim(bottom=0)
            ax.set_title(f"{title} ({mode})", fontsize=10)
            ax.set_xlabel("faults.p_major")
            ax.set_ylabel(unit)
            ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
