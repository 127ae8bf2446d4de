"""``buffer.payload = "sizes"``, the payload-free mode (issue #15, item 5).

It moves offsets, counters and headers but no payload byte, and verifies
headers only; everything the model reports (counts, losses, bytes, times,
every event's row) must be identical to ``"bytes"`` mode, and its memory
must not grow with payload sizes. The engine-vs-reference tests draw the
mode too (tests/test_engine_reference.py).
"""
from __future__ import annotations

import warnings

import numba
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fastring
from fastring import api, config as C
from fastring.sim import estimate

NO_JIT = bool(numba.config.DISABLE_JIT)
# runs columns that are not the model's: the config key itself and the clock
NOT_MODEL = ("buffer.payload", "wall_s", "events_per_s")
# a fault-heavy world where every builtin strategy faults, sleeps, retries,
# restarts, migrates and loses records
BUSY = {"machine": {"n_cpus": 2, "tasks_per_cpu": 3, "p_migrate": 0.3,
                    "timeslice_ns": 3000},
        "buffer": {"subbuf_size": 1024, "n_subbuf": 2},
        "workload": {"think_ns": 500.0, "capture": "full", "capture_max": 3000,
                     "user_pages": 8, "working_set_pages": 4},
        "faults": {"p_minor": 0.1, "p_major": 0.02, "major_ns": 30_000.0}}


def _model_tables(res):
    runs = res.runs.drop([c for c in NOT_MODEL if c in res.runs.column_names])
    return runs.to_pydict(), res.buffers.to_pydict(), res.events.to_pydict()


def assert_modes_agree(cfg: dict) -> dict:
    """Run ``cfg`` in both modes; the model's tables must be equal."""
    got = {}
    for payload in ("bytes", "sizes"):
        over = {**cfg, "buffer": {**cfg.get("buffer", {}), "payload": payload}}
        got[payload] = _model_tables(fastring.run(over, events_table=True))
    for name, a, b in zip(("runs", "buffers", "events"), got["bytes"], got["sizes"]):
        assert a.keys() == b.keys(), name
        diff = [k for k in a if repr(a[k]) != repr(b[k])]   # NaN: no pin
        assert not diff, f"{name} columns differ between the modes: {diff}"
    return got["bytes"][0]


@st.composite
def configs(draw):
    events = draw(st.integers(50, 300 if NO_JIT else 1500))
    model = draw(st.sampled_from(["bernoulli", "residency"]))
    return {
        **BUSY,
        "run": {"seed": draw(st.integers(0, 2**40)), "events": events,
                "chunk_events": draw(st.integers(7, 400))},
        "buffer": {"subbuf_size": draw(st.sampled_from([512, 1024, 4096])),
                   "n_subbuf": draw(st.sampled_from([2, 4])),
                   "mode": draw(st.sampled_from(["discard", "overwrite"])),
                   "header_size": draw(st.sampled_from([40, 56]))},
        "reader": {"period_ns": draw(st.integers(2000, 100_000)),
                   "bytes_per_ns": draw(st.sampled_from([0.05, 1.0, 20.0]))},
        "faults": {**BUSY["faults"], "model": model,
                   "p_minor": draw(st.floats(0, 0.3)),
                   "p_major": draw(st.floats(0, 0.05)),
                   "reclaim_ns": draw(st.sampled_from([0.0, 500.0, 1e5])),
                   "inject": draw(st.lists(st.fixed_dictionaries({
                       "event": st.integers(0, events - 1),
                       "kind": st.sampled_from(["minor", "major"]),
                       "delay_ns": st.integers(0, 500_000)}),
                       max_size=2, unique_by=lambda d: d["event"]))},
    }


@settings(max_examples=6 if NO_JIT else 15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs())
def test_sizes_mode_reports_what_bytes_mode_reports(cfg):
    """Every strategy, faults (both models, injected, reclaim), overwrite
    and discard: the runs, buffers and events tables are the same."""
    with warnings.catch_warnings():           # unapplied injections
        warnings.simplefilter("ignore", RuntimeWarning)
        assert_modes_agree(cfg)


def test_the_modes_agree_on_a_run_that_exercises_every_mechanism():
    """One fixed busy run, checked to really fault, retry, restart (reclaim
    takes the prefetched pages back), migrate and lose records, so that the
    equality above is not vacuous."""
    cfg = {**BUSY, "run": {"events": 400 if NO_JIT else 3000, "seed": 5},
           "buffer": {**BUSY["buffer"], "mode": "overwrite"},
           "faults": {**BUSY["faults"], "reclaim_ns": 2000.0}}
    runs = assert_modes_agree(cfg)
    by = {s: i for i, s in enumerate(runs["strategy"])}
    col = lambda name, s: runs[name][by[s]]    # noqa: E731
    assert col("faults_major", "kmalloc_bounce") > 0 and col("kmallocs", "kmalloc_bounce") > 0
    assert col("retries", "percpu_retry") > 0
    assert col("restarts", "restart_on_fault") > 0
    assert col("migrations", "copy_then_commit") > 0
    assert col("data_missing", "nofault") > 0
    assert sum(runs["overwritten"]) + sum(runs["lost_wrap"]) > 0
    assert all(v == 0 for v in runs["verify_errors"])
    assert all(v > 0 for v in runs["copied_bytes"])   # copies still counted


def _allocated(cfg: dict) -> int:
    """Bytes of every array a Simulation of ``cfg`` holds (state, ring, world)."""
    sim = api.Simulation(cfg, "kmalloc_bounce")
    return sum(a.nbytes for tup in (sim.state, sim.ring, sim.world)
               for a in tup if hasattr(a, "nbytes"))


def test_sizes_mode_memory_does_not_grow_with_payload_sizes():
    """A 1 MiB capture_max over 2 x 64 tasks: "bytes" holds a bounce buffer
    per task, a scratch buffer per CPU and the user-memory arena; "sizes"
    holds none of them, and grows only by the per-page fault state."""
    def cfg(payload, cap):
        return C.load(overrides=[
            "machine.n_cpus=2", "machine.tasks_per_cpu=64", f"buffer.payload={payload}",
            f"workload.capture_max={cap}", "workload.user_pages=512",
            'run.strategies=["kmalloc_bounce"]'])
    small, big = 4096, 1 << 20
    n_tasks, n_cpus = 128, 2
    page_state = n_tasks * 9 * ((big - small) // 4096)   # int8 state + int64 reclaim
    grow_sizes = _allocated(cfg("sizes", big)) - _allocated(cfg("sizes", small))
    assert grow_sizes == page_state
    grow_bytes = _allocated(cfg("bytes", big)) - _allocated(cfg("bytes", small))
    assert grow_bytes == page_state + (n_tasks + n_cpus) * (big - small)
    saved = _allocated(cfg("bytes", big)) - _allocated(cfg("sizes", big))
    assert saved == 512 * 4096 + (n_tasks + n_cpus) * (big - 1)   # 1 byte kept each
    est = estimate.estimate(cfg("sizes", big), C.resolved_costs(cfg("sizes", big)))
    assert est.memory["workload.user_pages (the user-memory arena)"] == 0
