#!/usr/bin/env python3
"""Engine events/s of two git revisions, measured side by side.

For "measure before and after every optimisation" on a noisy machine: each
revision is checked out into its own git worktree (under ``--workdir``,
reused between calls), and fresh interpreters of the two alternate, round
after round, pinned to the same core. Each interpreter compiles (or loads
from its worktree's numba cache) and warms up, then times
``Simulation(cfg, strategy).run()`` on the default config (plus
``--set`` overrides) ``--repeats`` times and reports its fastest run; the
table gives, per strategy, the median over ``--rounds`` rounds of each
revision and their ratio. Alternating whole processes spreads slow phases
of a shared machine over both sides; a median over rounds then drops them.

Usage::

    python benchmarks/compare_revisions.py 3bd8ebd HEAD
        [--events 1e6] [--rounds 5] [--repeats 3] [--strategies a,b]
        [--set machine.n_cpus=1 ...] [--set-after KEY=VALUE ...]
        [--cpu 0] [--clock wall|cpu]

``--set-after`` overrides apply to the second side only, so that one
revision compares two settings side by side, e.g. the payload modes::

    python benchmarks/compare_revisions.py HEAD HEAD --set-after buffer.payload=sizes
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLOCKS = {"wall": "time.perf_counter", "cpu": "time.process_time"}

_CHILD = """
import os, sys, time
os.sched_setaffinity(0, {{{cpu}}})
sys.path.insert(0, {tree!r})
from fastring import config as C
from fastring.api import Simulation
name, over = {strategy!r}, {over!r}
sel = [f'run.strategies=["{{name}}"]']
Simulation(C.load(None, ["run.events=2000", *sel, *over]), name).run()
best = float("inf")
for _ in range({repeats}):
    sim = Simulation(C.load(None, ["run.events={events}", *sel, *over]), name)
    t0 = {clock}()
    sim.run()
    best = min(best, {clock}() - t0)
print(best / {events} * 1e9)
"""


def worktree(rev: str, workdir: Path) -> Path:
    """A checkout of ``rev`` (a detached worktree, refreshed if it exists)."""
    sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", rev + "^{commit}"],
                         capture_output=True, text=True, check=True).stdout.strip()
    tree = workdir / sha[:12]
    if not tree.exists():
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-f",
                        str(tree), sha], check=True, capture_output=True)
    return tree


def ns_per_event(tree: Path, strategy: str, events: int, repeats: int,
                 over: list[str], cpu: int, clock: str = "wall") -> float:
    code = _CHILD.format(tree=str(tree), strategy=strategy, over=over,
                         events=events, repeats=repeats, cpu=int(cpu),
                         clock=CLOCKS[clock])
    out = subprocess.run([sys.executable, "-c", code],
                         capture_output=True, text=True, cwd=tree)
    if out.returncode != 0:
        raise RuntimeError(f"{tree.name} {strategy}: {out.stderr.strip()[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--events", type=float, default=1e6)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--strategies", default="copy_then_commit")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--set-after", action="append", default=[], metavar="KEY=VALUE",
                    help="overrides for the after side only")
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--clock", choices=CLOCKS, default="wall",
                    help="wall: elapsed time; cpu: the process's CPU time, "
                         "which leaves out the time it waits for a core on a "
                         "loaded machine")
    ap.add_argument("--workdir", type=Path, default=REPO / ".asv" / "revisions")
    a = ap.parse_args(argv)
    if a.rounds < 1 or a.repeats < 1 or a.events < 1:
        ap.error("--rounds, --repeats and --events must be >= 1")
    a.workdir.mkdir(parents=True, exist_ok=True)
    trees = [worktree(a.before, a.workdir), worktree(a.after, a.workdir)]
    events = int(a.events)
    print(f"{a.before} ({trees[0].name}) vs {a.after} ({trees[1].name}): "
          f"default config {' '.join(a.set)}"
          + (f", after with {' '.join(a.set_after)}" if a.set_after else "")
          + f", {events:,} events, fastest of "
          f"{a.repeats} per process, median of {a.rounds} alternating rounds, CPU {a.cpu}, "
          f"{a.clock} clock")
    print(f"{'strategy':26s} {'before ns/ev':>13s} {'after ns/ev':>12s} {'speedup':>8s}")
    for name in [s for s in a.strategies.split(",") if s]:
        res = ([], [])
        for _ in range(a.rounds):
            for side, tree in enumerate(trees):
                over = a.set + (a.set_after if side else [])
                res[side].append(ns_per_event(tree, name, events, a.repeats, over,
                                              a.cpu, a.clock))
        b, f = (statistics.median(x) for x in res)
        print(f"{name:26s} {b:>13.1f} {f:>12.1f} {b / f:>7.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
