"""Recorded workloads: strace parsing speed (lines/s) and replay speed
(events/s), against the synthetic engine on the same machine.

    python benchmarks/workloads.py [--lines 1000000] [--loops 100] [--repeat 3]

* parse: a capture of ``--lines`` lines made by repeating the shipped
  ``python`` capture (10 132 lines, 9659 syscalls, 41 pids; timestamps
  shifted so that time runs on), written gzipped and plain to a temporary
  directory; ``fastring.world.strace.parse`` of each, best and median of
  ``--repeat``.
* replay: ``copy_then_commit`` replaying the shipped ``python`` capture
  ``--loops`` times (summary mode, the default lttng-modules preset), then
  the synthetic mix fitted from it for the same number of events; both with
  compiled kernels (compiled first, outside the timing). Reported: events/s
  of each (median of ``--repeat``) and their ratio.

Timings depend on the machine and its load: quote the ratios, measured side
by side in one run.
"""
from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastring import config as C                      # noqa: E402
from fastring.api import Simulation                   # noqa: E402
from fastring.data import capture_path                # noqa: E402
from fastring.world.fit import fit  # noqa: E402
from fastring.world.strace import parse  # noqa: E402


def big_capture(path: str, lines: int, gz: bool) -> int:
    """Repeat the shipped capture, time shifted, up to ``lines`` lines."""
    with gzip.open(capture_path("python"), "rt", encoding="latin-1") as fh:
        base = fh.read().splitlines()
    out, n, rep = [], 0, 0
    while n < lines:
        for line in base:
            if n == lines:
                break
            pid, ts, rest = line.split(None, 2)
            h, m, s = ts.split(":")
            shifted = (int(h) * 3600 + int(m) * 60 + float(s) + 2.0 * rep) % 86400
            hh, mm = divmod(int(shifted) // 60, 60)
            out.append(f"{pid} {hh:02d}:{mm:02d}:{shifted % 60:09.6f} {rest}\n")
            n += 1
        rep += 1
    opener = gzip.open if gz else open
    with opener(path, "wt", encoding="latin-1") as fh:
        fh.writelines(out)
    return n


def timed(fn, repeat):
    """(best wall s, median wall s, median CPU s): the CPU time of this
    process says what the parse costs when the machine is shared."""
    ts, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        ts.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(ts), statistics.median(ts), statistics.median(cpu)


def replay_rate(cfg, repeat):
    rates = []
    for _ in range(repeat + 1):                  # the first run compiles
        sim = Simulation(cfg, "copy_then_commit")
        sim.run()
        rates.append(sim.completed / sim.wall)
    return statistics.median(rates[1:])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--loops", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        for gz in (False, True):
            p = os.path.join(d, "cap.strace" + (".gz" if gz else ""))
            n = big_capture(p, a.lines, gz)
            best, med, cpu = timed(lambda: parse(p), a.repeat)
            print(f"parse {'gzip ' if gz else 'plain'}: {n} lines, wall best {best:.2f} s "
                  f"({n / best / 1e3:.0f} k lines/s), median {med:.2f} s; CPU median "
                  f"{cpu:.2f} s ({n / cpu / 1e3:.0f} k lines/s)")
    trace = C.load({"workload": {"source": "trace", "trace": capture_path("python"),
                                 "trace_loops": a.loops},
                    "run": {"strategies": ["copy_then_commit"]}})
    fitted = C.load(fit(parse(capture_path("python"))),
                    [f"run.events={trace['run']['events']}",
                     "run.strategies=['copy_then_commit']"])
    r_trace = replay_rate(trace, a.repeat)
    r_syn = replay_rate(fitted, a.repeat)
    print(f"replay: {trace['run']['events']} events, {r_trace / 1e6:.2f} M events/s; "
          f"fitted synthetic: {r_syn / 1e6:.2f} M events/s; replay/synthetic "
          f"{r_trace / r_syn:.2f}")


if __name__ == "__main__":
    main()
