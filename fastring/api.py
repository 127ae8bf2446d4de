"""``fastring.run(config)``: every strategy of a config through the engine.

Validation happens first, in full, before any kernel runs: the config's in
:func:`fastring.config.load` (once: a loaded config is not loaded again),
the run's size in :func:`check`. Each strategy then
replays the same world (same seed, same arena, same random draws keyed by
event) in chunks of ``run.chunk_events`` completed events, so memory stays
flat unless the per-event table is asked for, and a progress callback sees
every chunk.
"""
from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from .model import buffer as B
from . import config as C
from . import engine as E
from .sim import estimate as X
from .sim import parallel as P
from .model import strategies as S
from .world import prepare as W
from .model.histogram import bin_bounds, max_value, quantile, quantiles  # noqa: F401 (quantile: fastring.live)
from .io.results import Results, schema_metadata

Progress = Callable[[str, int, int], None]   # (strategy, events done, events)

TIME_METRICS = (("latency", E.HIST_LATENCY, E.COUNT_MAX_LATENCY),
                ("preempt_off", E.HIST_PREEMPT_OFF, E.COUNT_MAX_PREEMPT_OFF),
                ("preempt_section", E.HIST_PREEMPT_SECTION, E.COUNT_MAX_PREEMPT_SECTION),
                ("pin", E.HIST_PIN, E.COUNT_MAX_PIN),
                ("delivery", E.HIST_DELIVERY, None))
BUFFER_COLUMNS = ("records", "lost_full", "lost_wrap", "lost_big",
                  "overwritten", "padding_bytes", "wasted_bytes",
                  "recorded_bytes", "subbufs_delivered", "delivered",
                  "max_occupancy", "commits_local", "commits_remote",
                  "commits_atomic", "verify_errors", "data_missing_delivered")
PERCENTILES = {"p50": 0.5, "p99": 0.99, "p999": 0.999}
STATUS = E.STATUS_NAMES


class ClockError(C.ConfigError):
    """The simulated clock wrapped during a run (its results are discarded)."""


def time_columns(hists: dict, maxima: dict) -> dict:
    """The ``runs`` columns of each time distribution (histograms in ps):
    percentiles, maximum (exact when ``maxima[name]`` is given, else the
    histogram's), and the whole distribution for plots, all in ns."""
    out = {}
    for name, hist in hists.items():
        mx = max_value(hist) if maxima[name] is None else (
            float(maxima[name]) if hist.sum() else float("nan"))
        for label, v in zip(PERCENTILES, quantiles(hist, PERCENTILES.values(), mx)):
            out[f"{name}_{label}_ns"] = v / 1000.0      # clamped to the maximum
        out[f"{name}_max_ns"] = mx / 1000.0
    for name, hist in hists.items():          # the whole distribution, for plots
        nz = np.nonzero(hist)[0]
        out[f"{name}_hist_ns"] = (bin_bounds(nz)[0] / 1000.0).tolist()
        out[f"{name}_hist_count"] = hist[nz].tolist()
    return out


class Simulation:
    """One strategy's run, stepped chunk by chunk (used by :func:`run`, the
    benchmarks and the tests)."""

    def __init__(self, cfg: dict, strategy: str, world: W.World | None = None,
                 events_table: bool = False, prog=None):
        self.cfg = cfg
        self.strategy = strategy
        self.world = world if world is not None else W.prepare(cfg)
        self.prog = prog if prog is not None else C.programs(cfg, [strategy])[strategy]
        n_bounded = int((self.prog[:, S.SLOT] >= 0).sum())
        self.chunk = cfg["run"]["chunk_events"]
        self.ring = W.new_ring(cfg)
        self.state = E.new_state(self.world, self.ring, n_bounded,
                                 self.chunk if events_table else 0)
        E.init(self.world, self.state, self.ring)
        self.done = False
        self._compiled = False
        self.wall = 0.0
        self._now = 0

    @property
    def completed(self) -> int:
        return int(self.state.g[E.GLOBAL_COMPLETED])

    def advance(self) -> np.ndarray:
        """Run one chunk; returns the per-event rows it completed."""
        if not self._compiled:                # compile outside the timed region
            E.run_chunk(self.world, self.state, self.ring, self.prog, self.completed)
            self._compiled = True
        t0 = time.perf_counter()
        self.state.g[E.GLOBAL_ROWS] = 0
        target = self.completed + self.chunk
        self.done = bool(E.run_chunk(self.world, self.state, self.ring,
                                     self.prog, target))
        self.wall += time.perf_counter() - t0
        self._check_clock()
        return self.state.rows[:self.state.g[E.GLOBAL_ROWS]].copy()

    def _check_clock(self) -> None:
        """The backstop of ``estimate.clock_problem``: simulated time only
        moves forward; if it wrapped, no table is reported."""
        now = int(self.state.g[E.GLOBAL_NOW])
        if now < self._now:
            raise ClockError(
                f"{self.strategy}: the simulated clock wrapped (int64 "
                f"picoseconds, limit {X.CLOCK_LIMIT_NS:.3g} ns) after "
                f"{self._now / 1000:.3g} ns at event {self.completed}; the "
                f"estimate let this config through: please report it. Shorten "
                f"the run (run.events, workload.think_ns, faults.*_ns)")
        self._now = now

    def summary(self) -> dict:
        """The ``runs`` metrics of a finished run (see docs/model.md)."""
        k, st, h = self.state.k, self.ring.st, self.state.h
        tot = {name: int(st[:, i].sum()) for i, name in enumerate(B.ST_NAMES)}
        events = int(k[E.COUNT_EVENTS])
        out = {
            "events": events,
            "recorded": events - int(k[E.COUNT_LOST_EVENTS]),
            "lost_full": tot["lost_full"], "lost_wrap": tot["lost_wrap"],
            "lost_big": tot["lost_big"], "overwritten": tot["overwritten"],
            "data_missing": int(k[E.COUNT_DATA_MISSING]),
            "restarts": int(k[E.COUNT_RESTARTS]), "retries": int(k[E.COUNT_RETRIES]),
            "faults_minor": int(k[E.COUNT_FAULTS_MINOR]), "faults_major": int(k[E.COUNT_FAULTS_MAJOR]),
            "migrations": int(k[E.COUNT_MIGRATIONS]),
            "commits_local": tot["commits_local"],
            "commits_remote": tot["commits_remote"],
            "commits_atomic": tot["commits_atomic"],
            "atomic_ops": int(k[E.COUNT_ATOMIC_OPS]), "kmallocs": int(k[E.COUNT_KMALLOCS]),
            "payload_bytes": int(k[E.COUNT_PAYLOAD_BYTES]),
            "recorded_bytes": tot["recorded_bytes"],
            "copied_bytes": int(k[E.COUNT_COPIED_BYTES]),
            "padding_bytes": tot["padding_bytes"],
            "wasted_bytes": tot["wasted_bytes"],
            "inject_unapplied": self.inject_unapplied(),
        }
        out.update(time_columns(
            {name: self.state.delivery if hi == E.HIST_DELIVERY else h[hi]
             for name, hi, _ in TIME_METRICS},
            {name: None if kmax is None else k[kmax]
             for name, _, kmax in TIME_METRICS}))
        out["cpu_ns_per_event"] = (k[E.COUNT_CPU_PS] / events / 1000.0) if events else float("nan")
        out.update({
            "preemptions": int(k[E.COUNT_PREEMPTIONS]),
            "sleeps": int(k[E.COUNT_SLEEPS]),
            "delivered": tot["delivered"],
            "verify_errors": tot["verify_errors"],
            "sim_time_ns": int(self.state.g[E.GLOBAL_NOW]) / 1000.0,
            "wall_s": self.wall,
            "events_per_s": events / self.wall if self.wall > 0 else float("nan"),
        })
        return out

    def inject_unapplied(self) -> int:
        """``faults.inject`` entries that forced nothing: their event touched
        no user page in a copy (no payload, or its record dropped before the
        copy), or was never issued (event >= run.events)."""
        issued = int(self.state.g[E.GLOBAL_ISSUED])
        return int(self.state.k[E.COUNT_INJECT_UNAPPLIED]) + int(
            (self.world.inj_event >= issued).sum())

    def buffer_rows(self) -> list[dict]:
        st = self.ring.st
        return [{"strategy": self.strategy, "cpu": b,
                 **{c: int(st[b, B.ST_NAMES.index(c)]) for c in BUFFER_COLUMNS}}
                for b in range(st.shape[0])]

    def run(self, progress: Progress | None = None, on_rows=None) -> dict:
        """Run to the end; ``on_rows(rows)`` receives each chunk's event rows."""
        total = self.cfg["run"]["events"]
        while not self.done:
            rows = self.advance()
            if on_rows is not None and len(rows):
                on_rows(rows)
            if progress is not None:
                progress(self.strategy, self.completed, total)
        return self.summary()


def event_batch(rows: np.ndarray, strategy: str, kinds: list[str]) -> pa.RecordBatch:
    """Per-event rows (int64, ps) as an Arrow batch with ns columns."""
    col = {name: rows[:, i] for i, name in enumerate(E.EVENT_COLUMNS)}
    ns = lambda a: pa.array(a / 1000.0, pa.float64())
    n = len(rows)
    names = pa.array(np.asarray(kinds, dtype=object)[col["kind"]], pa.string())
    return pa.RecordBatch.from_pydict({
        "strategy": pa.array([strategy] * n, pa.string()),
        "event": pa.array(col["event"], pa.int64()),
        "task": pa.array(col["task"], pa.int32()),
        "kind": names,
        "syscall": names,              # the kind's name: a syscall's, replayed or drawn
        "payload_len": pa.array(col["payload_len"], pa.int64()),
        "start_ns": ns(col["start_ps"]),
        "end_ns": ns(col["end_ps"]),
        "latency_ns": ns(col["end_ps"] - col["start_ps"]),
        "reserve_cpu": pa.array(col["reserve_cpu"], pa.int32()),
        "commit_cpu": pa.array(col["commit_cpu"], pa.int32()),
        "status": pa.array(np.asarray(STATUS, dtype=object)[col["status"]], pa.string()),
        "data_missing": pa.array((col["flags"] & B.F_DATA_MISSING) != 0, pa.bool_()),
        "faults_minor": pa.array(col["faults_minor"], pa.int32()),
        "faults_major": pa.array(col["faults_major"], pa.int32()),
        "restarts": pa.array(col["restarts"], pa.int32()),
        "retries": pa.array(col["retries"], pa.int32()),
        "preempt_off_ns": ns(col["preempt_off_ps"]),
        "preempt_section_ns": ns(col["preempt_section_ps"]),
        "pin_ns": pa.array(np.where(col["pin_ps"] >= 0, col["pin_ps"] / 1000.0, np.nan)),
        "cpu_ns": ns(col["cpu_ps"]),
        "user_addr": pa.array(col["user_addr"], pa.int64()),
    })


def simulate_strategy(cfg: dict, name: str, world: W.World | None = None, prog=None,
                      events_table: bool = False, progress: Progress | None = None,
                      on_batch=None) -> tuple[dict, list[dict], list]:
    """One strategy of ``cfg`` run to its end: its summary, its buffer rows
    and (``events_table``) its per-event batches. The unit of work of
    :func:`run`, in this process or in a worker (:mod:`fastring.sim.parallel`)."""
    kinds = W.kinds(cfg)
    want_rows = events_table or on_batch is not None
    sim = Simulation(cfg, name, world, events_table=want_rows, prog=prog)
    batches = []

    def take(rows):
        batch = event_batch(rows, name, kinds)
        if on_batch is not None:
            on_batch(batch)
        if events_table:
            batches.append(batch)

    summary = sim.run(progress, take if want_rows else None)
    return summary, sim.buffer_rows(), batches


def run(config=None, *, events_table: bool = False, overrides=(),
        progress: Progress | None = None, on_batch=None, jobs: int | None = 1,
        force: bool = False) -> Results:
    """Simulate every strategy of ``config`` and return the result tables.

    ``config``: None (defaults), a nested dict, a TOML path, or an already
    loaded config; ``overrides``: ``"section.key=value"`` strings.
    ``events_table``: also build the per-event table (memory grows with
    ``run.events``); ``on_batch(batch)`` instead streams it, batch by batch,
    without keeping it. ``jobs``: strategies run in this many processes at
    once (None: one per core; the tables are the same bit for bit); with
    ``on_batch`` they run one after another here, so that batches stream in
    order. Raises :class:`fastring.config.ConfigError` (or
    :class:`fastring.strategies.ProgramError`) before any kernel runs, and
    :class:`fastring.sim.estimate.EstimateError` (a ConfigError) for a run
    estimated to take over an hour or over half the RAM, unless ``force``.
    """
    cfg = C.load(config, overrides)    # of a loaded config: a copy, no second load
    check(cfg, events_table=events_table, force=force)
    names = cfg["run"]["strategies"]
    jobs = P.default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise C.ConfigError(f"jobs: must be >= 1 (or None: one per core), got {jobs}")
    if jobs > 1 and len(names) > 1 and on_batch is None:
        results = P.run_strategies(cfg, jobs, events_table, progress)
    else:
        world = W.prepare(cfg)
        results = [simulate_strategy(cfg, name, world, events_table=events_table,
                                     progress=progress, on_batch=on_batch)
                   for name in names]
    return _results(cfg, names, results, events_table)


def _results(cfg: dict, names: list[str], results: list, events_table: bool) -> Results:
    """The tables of a run from each strategy's (summary, buffer rows,
    batches), in strategy order."""
    flat = C.flatten(cfg)
    runs, buffers, batches = [], [], []
    for name, (summary, buffer_rows, strategy_batches) in zip(names, results):
        if summary["inject_unapplied"]:
            warnings.warn(f"{name}: {summary['inject_unapplied']} of the "
                          f"{len(cfg['faults']['inject'])} faults.inject entries "
                          f"forced no fault (their event copied no user page, "
                          f"or is >= run.events); see the runs column "
                          f"inject_unapplied", RuntimeWarning, stacklevel=3)
        if summary["verify_errors"]:
            warnings.warn(f"{name}: the reader found {summary['verify_errors']} "
                          f"records whose bytes or headers are wrong", RuntimeWarning,
                          stacklevel=3)
        runs.append({"strategy": name, **flat, **summary})
        buffers.extend(buffer_rows)
        batches.extend(strategy_batches)
    meta = schema_metadata(cfg)
    events = None
    if events_table:
        events = (pa.Table.from_batches(batches) if batches
                  else _empty_events(W.kinds(cfg))).replace_schema_metadata(meta)
    return Results(
        config=cfg,
        runs=_runs_table(runs).replace_schema_metadata(meta),
        buffers=pa.Table.from_pylist(buffers).replace_schema_metadata(meta),
        events=events)


def check(cfg: dict, *, events_table: bool = False, force: bool = False) -> X.Estimate:
    """The one check before a run that is not the config's own: its work and
    memory (:func:`fastring.sim.estimate.check`, which ``force`` overrides),
    for a loaded config, with the programs and costs it carries. Everything
    else was judged by :func:`fastring.config.load`."""
    n_bounded = max(int((p[:, S.SLOT] >= 0).sum()) for p in C.programs(cfg).values())
    return X.check(cfg, C.resolved_costs(cfg), n_bounded, events_table, force)


def _runs_table(rows: list[dict]) -> pa.Table:
    """The runs rows with fixed types for the histogram lists (an empty list
    alone would be typed list<null>, and files of several runs would then
    disagree on their schema)."""
    table = pa.Table.from_pylist(rows)
    for i, name in enumerate(table.column_names):
        if name.endswith("_hist_ns") or name.endswith("_hist_count"):
            item = pa.float64() if name.endswith("_ns") else pa.int64()
            table = table.set_column(i, name, table.column(i).cast(pa.list_(item)))
    return table


def _empty_events(kinds):
    return pa.Table.from_batches(
        [event_batch(np.zeros((0, E.N_E), np.int64), "", kinds)])
