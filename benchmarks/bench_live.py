"""Real events/s of ``fastring live`` (asv ``track_``): per strategy, with 1
writer thread and with every usable core (at least 2), on the default config
with ``workload.think_ns = 0`` (see benchmarks/live_throughput.py, which
prints the same as a table). Real threads on a real machine: the figure
moves with the host's load, so read it beside the machine's other results.
"""
from __future__ import annotations

import os

from . import _common as common

import fastring.live as FL

EVENTS = 200_000


def _threads():
    return sorted({1, max(2, len(os.sched_getaffinity(0)))})


class LiveThroughput:
    params = (common.STRATEGIES, _threads())
    param_names = ("strategy", "threads")
    timeout = 600
    unit = "events/s"

    def setup(self, strategy, threads):
        FL.live(overrides=["run.events=2000", 'run.strategies=["nofault"]'],
                threads=1, predict=False, warn=lambda m: None)    # compile

    def track_live_events_per_s(self, strategy, threads):
        res = FL.live(overrides=["workload.think_ns=0", f"run.events={EVENTS}",
                                 f'run.strategies=["{strategy}"]'],
                      threads=threads, predict=False, warn=lambda m: None)
        r = res.runs.to_pylist()[0]
        if r["mismatches"] or r["undelivered"]:
            raise RuntimeError(f"{strategy}: live run not verified")
        return r["events_per_s"]
