#!/usr/bin/env python3
"""Memory footprint per simulated CPU and engine cost per event, by machine size.

For each ``machine.n_cpus`` (default 4, 64, 256, 1024; ``tasks_per_cpu`` and
everything else at their defaults, summary mode, one strategy) a fresh
interpreter pinned to one core builds ``Simulation(cfg, strategy)``, reports
the bytes its arrays allocate (engine state, ring buffers, world) per
simulated CPU, times ``Simulation.run()`` over ``--events`` events in
process CPU time (robust on a shared machine; ``--repeats`` times, median,
construction excluded, after a compiling warm-up run) and its peak RSS (VmHWM, whole process: interpreter, numba and
the arena included). The last column is the per-event cost over that at the
first size. The fastring imported is the one on ``PYTHONPATH`` (an absolute
path): run it with two checkouts to compare revisions::

    PYTHONPATH=$PWD python benchmarks/footprint.py [--events 2e5] [--repeats 3]
        [--cpus 4,64,256,1024] [--strategy copy_then_commit] [--set KEY=VALUE]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, os, sys, time
cpus = sorted(os.sched_getaffinity(0))
os.sched_setaffinity(0, {cpus[-1]})
from fastring import config as C
from fastring.api import Simulation
n, events, repeats, name, over = %r
sel = [f'run.strategies=["{name}"]', f"machine.n_cpus={n}", *over]
Simulation(C.load(None, ["run.events=2000", *sel]), name).run()   # compile / load
times = []
for _ in range(repeats):
    sim = Simulation(C.load(None, [f"run.events={events}", *sel]), name)
    t0 = time.process_time()
    sim.run()
    times.append(time.process_time() - t0)
size = lambda tup: {f: getattr(tup, f).nbytes for f in tup._fields
                    if hasattr(getattr(tup, f), "nbytes")}
state, ring, world = size(sim.state), size(sim.ring), size(sim.world)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"state": state, "ring": ring, "world": world, "hwm_kib": hwm,
                  "ns": [t / events * 1e9 for t in times]}))
"""


def measure(n: int, events: int, repeats: int, strategy: str, over: list[str]) -> dict:
    # cwd: not the current directory, whose fastring ``-c`` would import
    out = subprocess.run([sys.executable, "-c", _CHILD % ((n, events, repeats, strategy, over),)],
                         capture_output=True, text=True, check=True, env=os.environ,
                         cwd=tempfile.gettempdir())
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=float, default=2e5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cpus", default="4,64,256,1024")
    ap.add_argument("--strategy", default="copy_then_commit")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args(argv)
    print(f"{'n_cpus':>6} {'state/CPU':>11} {'ring/CPU':>11} {'world/CPU':>11} "
          f"{'peak RSS':>10} {'ns/event':>9} {'x first':>8}   largest state arrays")
    first = None
    for n in (int(x) for x in args.cpus.split(",")):
        r = measure(n, int(args.events), args.repeats, args.strategy, args.set)
        ns = statistics.median(r["ns"])
        first = first or ns
        st, rg, wd = (sum(r[k].values()) for k in ("state", "ring", "world"))
        top = sorted(r["state"].items(), key=lambda kv: -kv[1])[:3]
        print(f"{n:6d} {st / n / 1024:9.1f}Ki {rg / n / 1024:9.1f}Ki {wd / n / 1024:9.1f}Ki "
              f"{r['hwm_kib'] / 1024:8.0f}Mi {ns:9.1f} {ns / first:8.2f}   "
              + ", ".join(f"{k} {v / 2**20:.1f}Mi" for k, v in top), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
