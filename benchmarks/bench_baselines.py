"""The engine against its baselines, measured in the same process (asv: track_).

* ``ReferenceBaseline.track_engine_over_reference``: engine events/s over the
  pure-Python reference engine's (``fastring.reference.engine.simulate``),
  1e5 events, ``copy_then_commit``, default config. Skipped while the
  reference engine does not exist.
* ``SimpyBaseline.track_engine_over_simpy``: the same against the SimPy model
  of :mod:`simpy_model` (SimPy is a benchmark-only requirement).
* ``BareLoop.track_ns_per_record``: the bare reserve / write_header / copy_in
  (64 B) / commit loop of :mod:`bare_loop`, 1e7 records on one buffer, local
  and remote (atomic) commit, median of 3: the floor any engine pays per
  record.
* ``EngineOverBareLoop.track_engine_over_bare_loop``: engine ns per event over the bare
  loop's ns per record (local commit), 1e6 events.

Targets (not assertions): engine >= 40x the reference, >= 300x SimPy; the
bare local loop <= 25 ns/record. ``python benchmarks/baselines.py`` and
``python benchmarks/engine_throughput.py`` print the same comparisons as
tables.
"""
from __future__ import annotations

import statistics

from . import _common as common
from . import bare_loop, simpy_model
from .baselines import engine_over, measure_engine, measure_reference, measure_simpy

EVENTS = common.BASELINE_EVENTS
STRATEGY = common.BASELINE_STRATEGY


class ReferenceBaseline:
    timeout = 3600             # the reference engine is slow by design

    def setup(self):
        common.reference_simulate()        # NotImplementedError: asv skips
        common.warm_up()

    def track_engine_over_reference(self):
        return engine_over(measure_reference, EVENTS, STRATEGY)
    track_engine_over_reference.unit = "ratio"


class SimpyBaseline:
    timeout = 1800

    def setup(self):
        if not simpy_model.available():
            raise NotImplementedError("simpy is not installed")
        common.warm_up()

    def track_engine_over_simpy(self):
        return engine_over(measure_simpy, EVENTS, STRATEGY)
    track_engine_over_simpy.unit = "ratio"

    def track_simpy_events_per_s(self):
        return measure_simpy(EVENTS, STRATEGY)[1]
    track_simpy_events_per_s.unit = "events/s"


class BareLoop:
    params = (["local", "remote"],)
    param_names = ("commit",)
    timeout = 600
    records = 10_000_000

    def setup(self, commit):
        bare_loop.compile_all()

    def track_ns_per_record(self, commit):
        return statistics.median(bare_loop.ns_per_record(self.records, commit)
                                 for _ in range(3))
    track_ns_per_record.unit = "ns/record"


class EngineOverBareLoop:
    timeout = 600

    def setup(self):
        bare_loop.compile_all()
        common.warm_up()
        _, eps, _ = measure_engine(1_000_000, STRATEGY, repeats=3)
        self.engine_ns = 1e9 / eps

    def track_engine_over_bare_loop(self):
        return self.engine_ns / bare_loop.ns_per_record(10_000_000, "local")
    track_engine_over_bare_loop.unit = "ratio"

    def track_engine_over_workload_bare_loop(self):
        """The like-for-like ratio: the same engine figure over the
        workload-matched bare loop (the default world's payloads, reader
        verifying), 1e6 records."""
        return self.engine_ns / bare_loop.ns_per_record_wl(1_000_000)
    track_engine_over_workload_bare_loop.unit = "ratio"
