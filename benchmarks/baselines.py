#!/usr/bin/env python3
"""How much faster is the engine than the obvious alternatives?

Prints, for one configuration and strategy, events per second of

* the compiled engine (``fastring.api.Simulation(cfg, strategy).run()``;
  median of ``--repeats`` runs after a warm-up that compiles every kernel);
* the pure-Python reference engine ``fastring.reference.engine.simulate(cfg,
  strategy)`` (same semantics; median of ``--baseline-repeats`` runs;
  reported as missing while it does not exist);
* the SimPy model of :mod:`simpy_model` (``copy_then_commit`` and
  ``copy_then_commit_atomic`` only; median of ``--baseline-repeats`` runs,
  on ``--simpy-events`` events when SimPy is too slow for the full count:
  events/s is what is compared);

and the ratios engine / baseline, all measured in this one process, one after
the other. The configuration is the default one with ``run.events`` set
(``--set section.key=value`` to change it), which the SimPy model covers in
full (bernoulli faults, no injection, discard mode, reader with verification);
what the SimPy model does differently is listed in its module docstring
(its own random stream, SimPy's tie order, exact quantiles). A few results of
each are printed side by side to show they simulate the same thing.

Usage: ``python benchmarks/baselines.py [--events 1e5] [--strategy
copy_then_commit] [--simpy-events N] [--repeats 5] [--baseline-repeats 3]
[--set KEY=VALUE ...]``.
Targets (not assertions): engine >= 40x the reference and >= 300x SimPy.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):           # run as a script: python benchmarks/x.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import _common as common  # noqa: E402
from benchmarks import simpy_model         # noqa: E402

TARGET_REFERENCE = 40.0
TARGET_SIMPY = 300.0
SHOW = ("events", "recorded", "faults_minor", "faults_major", "migrations",
        "commits_remote", "payload_bytes", "latency_p50_ns", "latency_p99_ns",
        "pin_p99_ns", "preempt_off_p50_ns", "cpu_ns_per_event", "verify_errors")


def measure_engine(events: int, strategy: str, overrides=(), repeats: int = 5):
    """(median wall s, events/s, summary of the last run)."""
    common.warm_up()
    walls, summary = [], None
    for _ in range(repeats):
        wall, summary = common.engine_run(events, strategy, *overrides)
        walls.append(wall)
    wall = statistics.median(walls)
    return wall, events / wall, summary


def measure_reference(events: int, strategy: str, overrides=(), repeats: int = 1):
    """(median wall s, events/s, result); NotImplementedError while the
    reference engine is missing."""
    simulate = common.reference_simulate()
    cfg = common.config(events, *overrides)
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = simulate(cfg, strategy)
        walls.append(time.perf_counter() - t0)
    wall = statistics.median(walls)
    return wall, events / wall, result


def reference_summary(res) -> dict:
    """The few summary values the reference's result (a ``RefResult``:
    ``counters``, ``rows``, ``buffers``) gives directly, for the side-by-side
    check; ``{}`` for anything else."""
    if isinstance(res, dict):
        return res
    k = getattr(res, "counters", None)
    if not isinstance(k, dict):
        return {}
    out = {key: k[key] for key in ("events", "faults_minor", "faults_major",
                                    "migrations", "payload_bytes") if key in k}
    if "events" in k and "lost_events" in k:
        out["recorded"] = k["events"] - k["lost_events"]
    if k.get("events") and "cpu_ps" in k:
        out["cpu_ns_per_event"] = k["cpu_ps"] / k["events"] / 1000.0
    try:
        counts = [b.count for b in res.buffers]
        out["commits_remote"] = sum(c["commits_remote"] for c in counts)
        out["verify_errors"] = sum(c["verify_errors"] for c in counts)
    except (AttributeError, KeyError, TypeError):
        pass
    return out


def measure_simpy(events: int, strategy: str, overrides=(), repeats: int = 1):
    """(median wall s, events/s, summary); ImportError without simpy."""
    cfg = common.config(events, *overrides)
    runs = [simpy_model.Model(cfg, strategy).run() for _ in range(repeats)]
    wall = statistics.median(r["wall_s"] for r in runs)
    return wall, events / wall, runs[-1]


def engine_over(measure, events: int, strategy: str) -> float:
    """Engine events/s over those of the baseline ``measure`` (one of the
    ``measure_*`` above), both measured now, in this process."""
    return (measure_engine(events, strategy)[1]
            / measure(events, strategy)[1])


def _fmt(v):
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:,.1f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=float, default=common.BASELINE_EVENTS)
    ap.add_argument("--strategy", default=common.BASELINE_STRATEGY,
                    choices=simpy_model.MODELED)
    ap.add_argument("--simpy-events", type=float, default=None,
                    help="events for the SimPy run (default: --events)")
    ap.add_argument("--repeats", type=int, default=5,
                    help="engine runs (median) [5]")
    ap.add_argument("--baseline-repeats", type=int, default=3,
                    help="reference and SimPy runs (median) [3]")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--no-simpy", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    a = ap.parse_args(argv)
    events = int(a.events)
    simpy_events = int(a.simpy_events or a.events)

    facts = common.machine_facts()
    print(f"baselines: strategy {a.strategy}, default config, run.events={events}"
          + (f", {' '.join(a.set)}" if a.set else ""))
    common.print_facts(facts)
    print()

    rows = []
    wall, eps, eng = measure_engine(events, a.strategy, a.set, a.repeats)
    rows.append(("engine (numba)", events, wall, eps, eng, f"median of {a.repeats}"))
    results = {"engine": eng}
    baselines = [] if a.no_reference else [
        ("reference (pure Python)", "reference", events, measure_reference,
         NotImplementedError, reference_summary)]
    if not a.no_simpy:
        baselines.append(("SimPy model", "simpy", simpy_events, measure_simpy,
                          ImportError, dict))
    for name, key, n, measure, missing, summary in baselines:
        try:
            wall, b_eps, res = measure(n, a.strategy, a.set, a.baseline_repeats)
        except missing as exc:
            rows.append((name, n, math.nan, math.nan, None, str(exc)))
            continue
        rows.append((name, n, wall, b_eps, res, f"median of {a.baseline_repeats}"))
        results[key] = summary(res)

    print(f"{'':26s} {'events':>10s} {'wall s':>9s} {'events/s':>12s} "
          f"{'engine / it':>12s}  note")
    for name, n, wall, r_eps, _res, note in rows:
        ratio = eps / r_eps if r_eps and not math.isnan(r_eps) else math.nan
        print(f"{name:26s} {n:>10,} {wall:>9.3f} {r_eps:>12,.0f} {ratio:>11.1f}x  {note}")
    print()
    for name, target, label in (("reference (pure Python)", TARGET_REFERENCE, "reference"),
                                ("SimPy model", TARGET_SIMPY, "SimPy")):
        row = [r for r in rows if r[0] == name]
        if row and not math.isnan(row[0][3]):
            ratio = eps / row[0][3]
            print(f"target engine >= {target:.0f}x {label}: {ratio:.1f}x -> "
                  f"{'met' if ratio >= target else 'NOT met'}")
        else:
            print(f"target engine >= {target:.0f}x {label}: not measured")
    print()
    cols = list(results)
    print(f"{'same workload?':24s} " + " ".join(f"{c:>16s}" for c in cols))
    for key in SHOW:
        vals = [results[c].get(key, "") if isinstance(results[c], dict) else "" for c in cols]
        print(f"{key:24s} " + " ".join(f"{_fmt(v):>16s}" for v in vals))
    if simpy_events != events and "simpy" in results:
        print(f"(the SimPy run has {simpy_events} events, the others {events})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
