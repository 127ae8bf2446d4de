"""Plot the sweep of examples/pinning_grid.toml: records lost by
copy_then_commit (and nofault, which never pins) against the major-fault
duration, one line per sub-buffer size, and print the table.

    fastring sweep examples/pinning_grid.toml --out results/pinning
    python examples/plot_pinning.py results/pinning [-o pinning.png]
"""
from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from _sweep_plot import lost, sweep_rows  # noqa: E402 (beside this file)


def main(argv=None) -> int:
    rows, out = sweep_rows(__doc__, "results/pinning", "pinning.png", argv)
    sizes = sorted({r["buffer.subbuf_size"] for r in rows})
    durations = sorted({r["faults.major_ns"] for r in rows})
    policies = sorted({r["workload.capture"] for r in rows}, reverse=True)
    fig, axes = plt.subplots(1, len(policies), figsize=(6.5 * len(policies), 4.2),
                             squeeze=False, sharey=True)
    for ax, policy in zip(axes[0], policies):
        print(f"\ncapture = {policy}: records lost by copy_then_commit (nofault: "
              f"{max(lost(r) for r in rows if r['strategy'] == 'nofault' and r['workload.capture'] == policy)} at most)")
        print("| sub-buffer | " + " | ".join(f"{d / 1e6:g} ms" for d in durations) + " |")
        print("|---|" + "---|" * len(durations))
        for size in sizes:
            for strategy, style in (("copy_then_commit", "-o"), ("nofault", ":x")):
                pts = {r["faults.major_ns"]: lost(r) / max(r["events"], 1) for r in rows
                       if r["strategy"] == strategy and r["buffer.subbuf_size"] == size
                       and r["workload.capture"] == policy}
                xs = [d for d in durations if d in pts]
                ax.plot([d / 1e6 for d in xs], [pts[d] for d in xs], style, markersize=4,
                        label=f"{strategy}, 4 x {size // 1024} KiB")
                if strategy == "copy_then_commit":
                    print(f"| 4 x {size // 1024} KiB | " + " | ".join(
                        f"{100 * pts[d]:.2g}%" if d in pts else "-" for d in durations) + " |")
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1e-6)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("major fault duration (faults.major_ns), ms")
        ax.set_title(f"capture = {policy!r}")
        ax.legend(fontsize=7, ncol=2)
    axes[0][0].set_ylabel("records lost / events")
    fig.suptitle("Records lost to pinning (default world, reader every 1 ms, p_major 1e-3)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
