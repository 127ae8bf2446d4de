"""Real events/s of ``fastring live`` per strategy, 1 writer thread against
all usable cores: how the commit scheme scales on this machine.

    python benchmarks/live_throughput.py [--events N] [--repeats R] [--threads N ...]

Workload: the default config with ``workload.think_ns = 0`` (writers back to
back: throughput, not a closed loop) and the simulator's prediction skipped.
Each (strategy, threads) cell is the median of ``--repeats`` runs, each a
fresh ``fastring.live`` call with its own threads; the kernels are compiled
before the first one. Columns: events/s (all writers together), events/s
per writer, the tracer's own ns per probe (median, cycle counter), and the
share of events the reader could not make room for (lost_full: on a busy
host the reader thread starves). On a 64-core machine run the same command
and read how the split counter scales.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import fastring.live as FL                          # noqa: E402
from fastring.config import BUILTIN_STRATEGIES      # noqa: E402

SETS = ["workload.think_ns=0"]


def measure(strategy: str, threads: int, events: int) -> dict:
    res = FL.live(overrides=[*SETS, f"run.events={events}",
                             f'run.strategies=["{strategy}"]'],
                  threads=threads, predict=False, warn=lambda m: None)
    r = res.runs.to_pylist()[0]
    if r["mismatches"] or r["undelivered"]:
        raise SystemExit(f"{strategy}: {r['mismatches']} mismatches, "
                         f"{r['undelivered']} undelivered: not a valid run")
    return r


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="*",
                    default=sorted({1, max(2, len(os.sched_getaffinity(0)))}))
    args = ap.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    print(f"# fastring live throughput: {platform.processor() or platform.machine()}, "
          f"{cores} usable cores, load average {os.getloadavg()[0]:.1f}; "
          f"{args.events} events, median of {args.repeats}")
    print(f"{'strategy':<24} {'threads':>7} {'events/s':>10} {'per writer':>10} "
          f"{'probe p50 ns':>12} {'lost_full %':>11}")
    measure("nofault", 1, 2000)                       # compile first
    for name in BUILTIN_STRATEGIES:
        for n in args.threads:
            rows = [measure(name, n, args.events) for _ in range(args.repeats)]
            eps = statistics.median(r["events_per_s"] for r in rows)
            p50 = statistics.median(r["cpu_ns_p50"] for r in rows)
            lost = statistics.median(r["lost_full"] / r["events"] for r in rows)
            print(f"{name:<24} {n:>7} {eps:>10.0f} {eps / n:>10.0f} {p50:>12.0f} "
                  f"{100 * lost:>11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
