#!/usr/bin/env python3
"""Wall time of ``fastring run`` (all six strategies) at ``--jobs 1`` against
``--jobs N``, and the cached start-up time.

Fresh ``python -m fastring run --no-progress`` processes (numba cache already
filled by a first run), alternating ``--jobs 1`` and ``--jobs N`` round after
round; the median wall time of each and their ratio. The start-up time is
the wall time of a 1000-event run of one strategy (import, config, world,
cached kernels: everything but simulating), median over the rounds. The
fastring run is the one on ``PYTHONPATH``.

    PYTHONPATH=$PWD python benchmarks/jobs_wall.py [--jobs 2] [--rounds 3]
        [--events 1e6] [--set KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def wall(args: list[str], out: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fastring", "run", "--no-progress",
                    "--out", out, *args], check=True, capture_output=True,
                   cwd=tempfile.gettempdir(), env=os.environ)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--events", type=float, default=1e6)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args(argv)
    sets = [x for kv in args.set for x in ("--set", kv)]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        wall(["--events", "1000", "--jobs", "1", *sets], out)       # fill the cache
        times = {"startup": [], 1: [], args.jobs: []}
        for _ in range(args.rounds):
            times["startup"].append(wall(["--events", "1000", "--jobs", "1",
                                          "--strategy", "copy_then_commit", *sets], out))
            for j in (1, args.jobs):
                times[j].append(wall(["--events", str(int(args.events)), "--jobs", str(j),
                                      *sets], out))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"fastring run, six strategies x {int(args.events):,} events, "
          f"median of {args.rounds} alternating rounds, {os.cpu_count()} CPUs:")
    print(f"  --jobs 1: {med[1]:.2f} s   --jobs {args.jobs}: {med[args.jobs]:.2f} s   "
          f"ratio {med[args.jobs] / med[1]:.2f}")
    print(f"  cached start-up (1000 events, one strategy): {med['startup']:.2f} s")
    print(f"  all samples: {times}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
