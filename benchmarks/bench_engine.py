"""Engine speed, memory and start-up cost (asv: time_, peakmem_, timeraw_).

Every in-process benchmark compiles (or loads from the numba cache) all the
kernels in ``setup`` first, so only the simulation is measured, never the JIT.
Set ``FASTRING_BENCH_MAX_EVENTS=1e6`` to skip the 1e7-event sizes (for a
quick pass over everything).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

from . import _common as common

import fastring
from fastring.api import Simulation


class EngineTime:
    """Wall time of ``Simulation(cfg, strategy).run()`` on the default config
    with ``run.events`` set (summary mode: no per-event table). The world and
    the ring are built in setup; each sample is a fresh simulation."""

    params = (common.STRATEGIES, [100_000, 1_000_000, 10_000_000])
    param_names = ("strategy", "events")
    number = 1                  # one whole run per sample
    repeat = (3, 10, 20.0)      # 3 to 10 samples; no new one after 20 s
    rounds = 1
    warmup_time = 0             # setup compiled everything already
    timeout = 1800              # 1e7 events: ~7 s a sample at 1.4 M events/s

    def setup(self, strategy, events):
        common.skip_if_too_large(events)
        common.warm_up()
        self.sim = Simulation(common.config(events), strategy)

    def time_simulate(self, strategy, events):
        self.sim.run()


class PayloadModeTime:
    """``buffer.payload``: bytes (real payload copies and byte-for-byte
    verification) against sizes (the payload-free mode: same tables, no
    payload byte moved), ``copy_then_commit``, 1e6 events, summary mode
    (issue #15's target for sizes: <= 90 ns per event)."""

    params = (["bytes", "sizes"],)
    param_names = ("payload",)
    number = 1
    repeat = (3, 10, 20.0)
    rounds = 1
    warmup_time = 0
    timeout = 600

    def setup(self, payload):
        common.warm_up()
        strategy = "copy_then_commit"
        Simulation(common.config(2000, f"buffer.payload={payload}",
                                 strategy=strategy), strategy).run()   # compiled
        self.sim = Simulation(common.config(1_000_000, f"buffer.payload={payload}",
                                            strategy=strategy), strategy)

    def time_simulate(self, payload):
        self.sim.run()


class EngineMemory:
    """Peak RSS of a whole ``fastring.run`` of one strategy: summary mode
    (memory flat in ``run.events``) against the per-event table mode
    (``events_table=True``: grows with ``run.events``)."""

    params = ([100_000, 1_000_000],)
    param_names = ("events",)
    timeout = 600

    def setup(self, events):
        common.skip_if_too_large(events)
        common.warm_up()
        self.cfg = common.config(events, strategy=common.BASELINE_STRATEGY)

    def peakmem_summary(self, events):
        fastring.run(self.cfg)

    def peakmem_events_table(self, events):
        res = fastring.run(self.cfg, events_table=True)
        assert res.events.num_rows == events


_FIRST_RUN = """
import fastring
res = fastring.run(None, overrides=["run.events=1000"])
assert res.runs.num_rows == 6
"""


class _Startup:
    number = 1
    repeat = (1, 3, 120.0)
    rounds = 1
    warmup_time = 0
    timeout = 900


class StartupCold(_Startup):
    """A fresh interpreter: ``import fastring`` plus a first 1000-event run of
    all six strategies (``fastring.run``) with an empty numba cache, so every
    kernel is compiled. Only the import and the run are timed, not the
    interpreter start."""

    def setup(self):
        self.root = tempfile.mkdtemp(prefix="fastring-numba-cold-")

    def teardown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def timeraw_import_first_run_cold(self):
        setup = ("import os, tempfile\n"
                 f"os.environ['NUMBA_CACHE_DIR'] = tempfile.mkdtemp(dir={self.root!r})\n")
        return _FIRST_RUN, setup


class StartupWarm(_Startup):
    """As :class:`StartupCold`, with a numba cache that a first run in
    another interpreter filled (in setup): what every run after the first
    one costs."""

    def setup(self):
        self.cache = tempfile.mkdtemp(prefix="fastring-numba-warm-")
        env = dict(os.environ, NUMBA_CACHE_DIR=self.cache)
        subprocess.run([sys.executable, "-c", textwrap.dedent(_FIRST_RUN)],
                       env=env, check=True, timeout=self.timeout)

    def teardown(self):
        shutil.rmtree(self.cache, ignore_errors=True)

    def timeraw_import_first_run_warm(self):
        setup = f"import os\nos.environ['NUMBA_CACHE_DIR'] = {self.cache!r}\n"
        return _FIRST_RUN, setup
