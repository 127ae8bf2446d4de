"""How much faster a sweep runs on local worker processes than serially.

    python examples/sweep_speedup.py [--cells 8] [--events 1000000]
                                     [--workers N] [--repeat 3] [--min-speedup X]

Runs a grid of equal cells (the same config under ``--cells`` replicate seeds,
all six strategies each) with ``workers=1`` (one after the other, in this
process) and with ``--workers`` processes (default: one per core), each
``--repeat`` times into a fresh temporary directory, and prints the median
wall times and their ratio. The serial runs are timed after a warm-up, so
they pay no compilation or cache loading; the parallel times include
starting the worker processes (each loads the compiled kernels from Numba's
cache). On a shared machine other processes skew the ratio: each serial +
parallel pair is timed when the host is quiet, and discarded if other
processes used more than ``--max-other`` cores meanwhile (measured from
/proc/stat). Exit status 1 if the ratio is below ``--min-speedup`` (default:
not checked), 2 if the host never got quiet enough.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

from fastring import sweep as SW


def grid(cells: int, events: int) -> dict:
    return {"run": {"events": events},
            "axes": {"run.seed": list(range(1, cells + 1))}}


def _busy_s() -> float:
    """CPU seconds all processes of the host have used (Linux; else 0)."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return 0.0
    busy = f[0] + f[1] + f[2] + sum(f[5:8])    # user nice system irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def _own_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _wait_quiet(max_other: float, window: float = 2.0, limit: float = 600.0):
    """Wait (at most ``limit`` s) until other processes use less than
    ``max_other`` cores."""
    t_end = time.monotonic() + limit
    while time.monotonic() < t_end:
        b0, o0 = _busy_s(), _own_s()
        time.sleep(window)
        if ((_busy_s() - b0) - (_own_s() - o0)) / window <= max_other:
            return


def timed(g: dict, workers: int) -> tuple[float, float]:
    """Wall time of the sweep, and CPU seconds other processes of the host
    took meanwhile (the benchmark is only meaningful when that is small)."""
    with tempfile.TemporaryDirectory(prefix="fastring-speedup-") as tmp:
        b0, o0 = _busy_s(), _own_s()
        t0 = time.perf_counter()
        table = SW.sweep(g, tmp, workers=workers, progress=False)
        wall = time.perf_counter() - t0
        others = max(0.0, (_busy_s() - b0) - (_own_s() - o0))
    assert table.num_rows == len(g["axes"]["run.seed"]) * 6, table.num_rows
    return wall, others


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=8)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=SW.default_workers())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--min-speedup", type=float, default=None)
    ap.add_argument("--max-other", type=float, default=0.1,
                    help="discard a pair of timings if other processes used "
                         "more than this many cores meanwhile (default 0.1; "
                         "a shared machine skews the ratio)")
    ap.add_argument("--retries", type=int, default=10,
                    help="discarded pairs allowed before giving up")
    args = ap.parse_args(argv)
    g = grid(args.cells, args.events)
    timed(grid(1, 1000), 1)                      # warm up this process
    serial, parallel = [], []
    attempts = 0
    while len(serial) < args.repeat:             # interleaved: same conditions
        attempts += 1
        if attempts > args.repeat + args.retries:
            print("too busy: not enough quiet pairs", file=sys.stderr)
            return 2
        _wait_quiet(args.max_other)
        (s, so), (p, po) = timed(g, 1), timed(g, args.workers)
        busy = (so + po) / (s + p)               # cores others used, on average
        ok = busy <= args.max_other
        print(f"pair {attempts}: serial {s:.2f} s, {args.workers} workers "
              f"{p:.2f} s, ratio {s / p:.2f}; other processes used "
              f"{busy:.2f} cores meanwhile{'' if ok else ' -> discarded'}",
              file=sys.stderr, flush=True)
        if ok:
            serial.append(s)
            parallel.append(p)
    s, p = statistics.median(serial), statistics.median(parallel)
    print(f"{args.cells} cells x 6 strategies x {args.events} events: "
          f"serial (workers=1) median {s:.2f} s, {args.workers} workers median "
          f"{p:.2f} s, speedup {s / p:.2f}x")
    if args.min_speedup is not None and s / p < args.min_speedup:
        print(f"speedup {s / p:.2f}x < {args.min_speedup}x", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
