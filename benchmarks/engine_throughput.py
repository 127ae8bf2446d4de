#!/usr/bin/env python3
"""Engine throughput per strategy, beside the bare reserve-copy-commit loop.

For every built-in strategy: ``Simulation(cfg, strategy).run()`` on the
default config (summary mode, no per-event table) with ``run.events = N``;
events per second is the median of ``--repeats`` runs, after a warm-up that
compiles every kernel (simulation construction is not timed). In the same
process, the two bare loops of :mod:`bare_loop`, ``--bare-records`` records
each, median of ``--repeats``: the 64-byte one (reserve + write_header +
64-byte copy_in + commit, local and remote commit, no reader) and the
workload-matched one (the default world's payload lengths and arena
addresses, one buffer of the default geometry, reader with verification).
The process is pinned to one core first.

The table gives events/s, ns per event, ``x bare`` (the engine's ns per
event over the 64-byte local loop's ns per record: how many bare records one
simulated event costs) and ``x bare(wl)`` (the same over the
workload-matched loop, a like-for-like floor: the engine's default workload
copies ~440 bytes per event on average and verifies them). The issue's
target, engine >= 0.5x the bare loop, means engine ns/event <= 2 x bare
ns/record; it is printed for ``copy_then_commit`` against both loops.
Machine facts are printed with the table.

With ``--peak-events N`` (e.g. ``1e8``) it also runs one summary-mode
``fastring.run`` of ``--peak-strategy`` on N events in a separate process
and prints its peak RSS (``VmHWM`` of ``/proc/self/status``, else
``ru_maxrss``, which on Linux also counts the parent's RSS at fork time),
beside the same process's
peak after import + 1000 events and after 1e5 events: summary mode should
stay flat (the numba cache is filled by another process first, so LLVM's
compile-time memory does not count).

Usage: ``python benchmarks/engine_throughput.py [--events 1e7] [--repeats 3]
[--strategies a,b] [--bare-records 1e7] [--peak-events 1e8]``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

if __package__ in (None, ""):           # run as a script: python benchmarks/x.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import _common as common  # noqa: E402  (one module name for
from benchmarks import bare_loop           # noqa: E402   numba's cache)

_PEAK = """
import json, resource, sys, time
import fastring
def rss_mib():
    # VmHWM: this process's own high-water mark. ru_maxrss would also count
    # the RSS of the parent at fork time (Linux keeps it across exec).
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
over = ['run.strategies=["{strategy}"]']
fastring.run(None, overrides=over + ["run.events=1000"])
warm = rss_mib()
if {measure}:
    fastring.run(None, overrides=over + ["run.events=100000"])
    small = rss_mib()
    t0 = time.perf_counter()
    res = fastring.run(None, overrides=over + ["run.events={events}"])
    wall = time.perf_counter() - t0
    print(json.dumps({{"rss_warm_mib": warm, "rss_small_mib": small,
                      "rss_peak_mib": rss_mib(), "wall_s": wall,
                      "events": res.runs.column("events")[0].as_py()}}))
"""


def peak_rss(events: int, strategy: str) -> dict:
    """Peak RSS (``VmHWM``, a high-water mark) of a fresh interpreter:
    after import and a 1000-event run, after a 1e5-event run, after an
    ``events`` run, all summary mode. A first interpreter fills the numba
    cache, so that compiling (LLVM's memory) does not set the mark."""
    for measure in (False, True):
        code = textwrap.dedent(_PEAK.format(events=events, strategy=strategy,
                                            measure=measure))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                             text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=float, default=1e7)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--strategies", default=",".join(common.STRATEGIES))
    ap.add_argument("--bare-records", type=float, default=1e7)
    ap.add_argument("--peak-events", type=float, default=None)
    ap.add_argument("--peak-strategy", default=common.BASELINE_STRATEGY)
    a = ap.parse_args(argv)
    events = int(a.events)
    n_bare = int(a.bare_records)
    strategies = [s for s in a.strategies.split(",") if s]

    facts = common.machine_facts()
    core = common.pin_to_one_core()
    print(f"engine throughput: default config, summary mode, run.events={events}, "
          f"median of {a.repeats} after warm-up, pinned to CPU {core}")
    common.print_facts(facts)
    print()

    common.warm_up()
    bare_loop.compile_all()

    bare = {}
    for how in ("local", "remote"):
        bare[how] = [bare_loop.ns_per_record(n_bare, how) for _ in range(a.repeats)]
    bare["wl"] = [bare_loop.ns_per_record_wl(n_bare) for _ in range(a.repeats)]
    floor = statistics.median(bare["local"])
    floor_wl = statistics.median(bare["wl"])

    print(f"{'strategy':28s} {'events/s':>12s} {'(min - max)':>23s} "
          f"{'ns/event':>9s} {'x bare':>7s} {'x bare(wl)':>10s}")
    engine_ns = {}
    for name in strategies:
        eps = [events / common.engine_run(events, name)[0] for _ in range(a.repeats)]
        med = statistics.median(eps)
        engine_ns[name] = 1e9 / med
        print(f"{name:28s} {med:>12,.0f} {f'({min(eps):,.0f} - {max(eps):,.0f})':>23s} "
              f"{1e9 / med:>9.1f} {1e9 / med / floor:>6.1f}x "
              f"{1e9 / med / floor_wl:>9.2f}x", flush=True)
    labels = {"local": "bare loop, local commit", "remote": "bare loop, remote commit",
              "wl": "bare loop, workload-matched"}
    for how in ("local", "remote", "wl"):
        ns = statistics.median(bare[how])
        print(f"{labels[how]:28s} {1e9 / ns:>12,.0f} "
              f"{f'({min(bare[how]):.2f} - {max(bare[how]):.2f} ns)':>23s} "
              f"{ns:>9.2f} {ns / floor:>6.1f}x {ns / floor_wl:>9.2f}x   "
              f"({n_bare:,} records, ns/record)")
    print(f"\nworkload-matched loop: default world's payloads (mean "
          f"{bare_loop.mean_payload(n_bare):.1f} B/record, 0 B for payload \"none\"), "
          f"arena addresses, local commit, reader with verification")
    print(f"target bare local loop <= 25 ns/record: {floor:.2f} -> "
          f"{'met' if floor <= 25 else 'NOT met'}")
    name = common.BASELINE_STRATEGY
    if name in engine_ns:
        for label, ns in (("64 B bare loop", floor), ("workload-matched bare loop", floor_wl)):
            ok = engine_ns[name] <= 2 * ns
            print(f"target {name} >= 0.5x the {label} (ns/event <= 2 x {ns:.2f} "
                  f"= {2 * ns:.2f}): {engine_ns[name]:.1f} ns/event, "
                  f"{ns / engine_ns[name]:.3f}x -> {'met' if ok else 'NOT met'}")

    if a.peak_events:
        n = int(a.peak_events)
        r = peak_rss(n, a.peak_strategy)
        print(f"\npeak RSS (VmHWM) of a separate summary-mode process, "
              f"{a.peak_strategy}: {r['rss_peak_mib']:.0f} MiB after {r['events']:,} "
              f"events ({r['wall_s']:.0f} s); {r['rss_small_mib']:.0f} MiB after 1e5 "
              f"events, {r['rss_warm_mib']:.0f} MiB after import + 1000 events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
