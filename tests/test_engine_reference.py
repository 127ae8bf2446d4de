"""The compiled engine against its pure-Python oracle, event for event.

``fastring.reference.engine.simulate`` re-implements the engine's semantics
with plain Python objects, ``heapq`` and the reference ring buffer. On
randomized small configs (faults, preemptions, migrations, losses in both
buffer modes, injected faults, every chunk size) both must produce the same
per-event rows, the same buffer bytes and counters, the same run counters,
histograms and final time.

Example counts: ``FASTRING_REF_EXAMPLES`` (default 25 per strategy with the
JIT on, 12 with ``NUMBA_DISABLE_JIT=1``, where events are also capped lower).
"""
from __future__ import annotations

import math
import os

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fastring import api
from fastring.model import buffer as B
from fastring import config as C
from fastring import engine as E
from fastring.model import strategies as S
from fastring.reference.engine import EVENT_COLUMNS, bin_of, simulate

NO_JIT = bool(numba.config.DISABLE_JIT)
EXAMPLES = int(os.environ.get("FASTRING_REF_EXAMPLES", 12 if NO_JIT else 25))
MAX_EVENTS = 1000 if NO_JIT else 2000

USER_PROGRAM = ["copy_user_to_bounce", "preempt_off", "reserve",
                "memcpy_bounce_to_slot", "commit_local", "preempt_on"]


def _with_bound(name, step, bound):
    """A builtin program whose bounded jump gives up after ``bound`` jumps
    (so that giving up, rare with the builtin bounds, happens often)."""
    return [f"{line.rsplit(' ', 1)[0]} {bound}" if step in line else line
            for line in S.BUILTIN[name][1]]


USER = {
    "task_bounce": {"description": "per-task preallocated bounce buffer",
                    "program": USER_PROGRAM},
    "retry_once": {"program": _with_bound("percpu_retry", "retry_if_cs_changed", 1)},
    "restart_once": {"program": _with_bound("restart_on_fault", "if_missing", 1)},
    # each copy's missing outcome belongs to its destination (issue #17.4)
    "bounce_then_slot": {"program": ["copy_user_to_bounce nofault", "fault_in",
                                     "preempt_off", "reserve",
                                     "copy_user_to_slot nofault", "commit_local",
                                     "preempt_on"]},
    "slot_twice": {"program": ["preempt_off", "reserve", "preempt_on",
                               "copy_user_to_slot nofault", "fault_in",
                               "copy_user_to_slot", "preempt_off",
                               "commit_split", "preempt_on"]},
}
STRATEGIES = [*S.BUILTIN, *USER]

# engine counter index -> reference counter name
ENGINE_COUNTERS = {
    E.K_EVENTS: "events", E.K_RESTARTS: "restarts", E.K_RETRIES: "retries",
    E.K_FMINOR: "faults_minor", E.K_FMAJOR: "faults_major",
    E.K_MIGRATIONS: "migrations", E.K_ATOMIC: "atomic_ops",
    E.K_KMALLOC: "kmallocs", E.K_PAYLOAD: "payload_bytes",
    E.K_COPIED: "copied_bytes", E.K_DATA_MISSING: "data_missing",
    E.K_CPU_PS: "cpu_ps", E.K_MAX_LAT: "max_latency_ps",
    E.K_MAX_OFF: "max_preempt_off_ps", E.K_MAX_SEC: "max_preempt_section_ps",
    E.K_MAX_PIN: "max_pin_ps", E.K_PREEMPTIONS: "preemptions",
    E.K_SLEEPS: "sleeps", E.K_LOST_EVENTS: "lost_events",
    E.K_INJ_UNAPPLIED: "inject_unapplied",
}
ENGINE_GLOBALS = {E.G_ISSUED: "issued", E.G_COMPLETED: "completed",
                  E.G_STEPS: "steps"}
# summary columns that are not a function of the config
WALL = ("wall_s", "events_per_s")


# the plain world of the schema defaults with the five-kind mix of fastring
# 0.2 (a payload-less kind, strings, and buffers up to 4 KiB that overflow
# small sub-buffers), so the busy runs below exercise every mechanism
MECHANICS = {"tracer": {"preset": "none"}, "workload": {"replace_mix": True, "syscalls": {
    "openat": {"weight": 0.25, "payload": "string", "len_median": 40.0, "len_sigma": 0.7},
    "execve": {"weight": 0.02, "payload": "string", "len_median": 200.0, "len_sigma": 1.0},
    "write": {"weight": 0.25, "payload": "buffer", "len_median": 256.0, "len_sigma": 1.5},
    "read": {"weight": 0.25, "payload": "buffer", "len_median": 512.0, "len_sigma": 1.5},
    "exit": {"weight": 0.23, "payload": "none"}}}}


# -- configs -------------------------------------------------------------------

def maybe_zero(hi):
    return st.one_of(st.just(0.0), st.floats(0, hi))


@st.composite
def configs(draw, max_events=MAX_EVENTS):
    events = draw(st.integers(0, max_events))
    capture_max = draw(st.sampled_from([0, 64, 300, 1024, 4096, 9000]))
    user_pages = draw(st.integers(max(1, -(-capture_max // 4096)), 48))
    subbuf = draw(st.sampled_from([256, 512, 1024, 2048, 4096]))
    header = draw(st.sampled_from([40, 48, 64]))
    model = draw(st.sampled_from(["bernoulli", "residency"]))
    inject = draw(st.lists(
        st.fixed_dictionaries({
            "event": st.integers(0, events + 2),      # a few never issued
            "kind": st.sampled_from(["minor", "major"]),
            "delay_ns": st.integers(0, 2_000_000)}),
        max_size=3, unique_by=lambda d: d["event"]))
    syscalls = draw(st.sampled_from([
        {},                                                      # the default mix
        {"big": {"weight": 0.2, "payload": "buffer", "len_median": 3000.0,
                 "len_sigma": 0.5}},                             # lost_big
        {"path": {"weight": 2.0, "payload": "string", "len_median": 100.0,
                  "len_sigma": 1.0}},                            # mostly strings
    ]))
    costs = draw(st.sampled_from([
        {},
        {"context_switch": 0.0},
        {k: 0.0 for k in ("context_switch", "preempt_off", "preempt_on",
                          "local_add", "clock_read")},           # ties in time
    ]))
    cfg = {
        "run": {"seed": draw(st.integers(0, 2**40)), "events": events,
                "chunk_events": draw(st.integers(1, 500))},
        "machine": {"n_cpus": draw(st.integers(1, 4)),
                    "tasks_per_cpu": draw(st.integers(1, 3)),
                    "timeslice_ns": draw(st.integers(1000, 100_000)),
                    "p_migrate": draw(maybe_zero(0.5))},
        "buffer": {"subbuf_size": subbuf, "n_subbuf": draw(st.sampled_from([2, 4])),
                   "mode": draw(st.sampled_from(["discard", "overwrite"])),
                   "header_size": header,
                   "payload": draw(st.sampled_from(["bytes", "bytes", "sizes"]))},
        "reader": {"period_ns": draw(st.integers(1000, 200_000)),
                   "bytes_per_ns": draw(st.sampled_from([0.01, 0.2, 1.0, 5.0, 100.0])),
                   "verify": draw(st.sampled_from([True, True, False]))},
        "workload": {"think_ns": draw(maybe_zero(5000)),
                     "capture": draw(st.sampled_from(["full", "full", "strings",
                                                      "ftrace"])),
                     "capture_max": capture_max, "user_pages": user_pages,
                     "working_set_pages": draw(st.integers(1, user_pages)),
                     "syscalls": syscalls},
        "faults": {"model": model,
                   "p_minor": draw(maybe_zero(0.2)),
                   "p_major": draw(maybe_zero(0.2)),
                   "residency_ns": 10 ** draw(st.floats(3, 6)),   # 1 us .. 1 ms
                   "p_major_given_missing": draw(st.floats(0, 1)),
                   "minor_ns": draw(st.floats(0, 5000)),
                   "major_ns": draw(st.floats(1000, 200_000)),
                   "sigma": draw(st.floats(0, 1.5)),
                   "reclaim_ns": draw(st.sampled_from([0.0, 0.0, 50.0, 2000.0, 1e5])),
                   "inject": inject},
        "costs": costs,
        "strategies": USER,
    }
    return C.load(cfg)


FUZZ = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


# -- running both ----------------------------------------------------------------

def run_engine(cfg, strategy, chunk=None):
    if chunk is not None:
        cfg = {**cfg, "run": {**cfg["run"], "chunk_events": chunk}}
    sim = api.Simulation(cfg, strategy, events_table=True)
    chunks = []
    summary = sim.run(on_rows=chunks.append)
    rows = [tuple(int(x) for x in r) for c in chunks for r in c]
    return sim, rows, summary


def hist_dict(h):
    return {int(i): int(h[i]) for i in np.nonzero(h)[0]}


def assert_same_buffers(ring, bufs, delivered):
    n_sub = int(ring.geo[B.G_NSUB])
    assert ring.st.shape[0] == len(bufs)
    for b, ref in enumerate(bufs):
        st_ = dict(zip(B.ST_NAMES, (int(x) for x in ring.st[b])))
        assert (st_["wr"], st_["rd"]) == (ref.write, ref.read), b
        assert st_["last_ts"] == ref.last_ts, b
        assert set(B.ST_NAMES) - {"wr", "rd", "last_ts", *B.READER_STATE} \
            == set(ref.count)
        assert st_["reading"] == (-1 if ref.reading is None else ref.reading), b
        got = {k: st_[k] for k in ref.count}
        assert got == ref.count, b
        for s, sb in enumerate(ref.sub):
            i = b * n_sub + s
            assert (int(ring.cc[2 * i + B.LOCAL]), int(ring.cc[2 * i + B.REMOTE])) \
                == (sb.local, sb.remote), (b, s)
            assert int(ring.nrec[i]) == sb.records, (b, s)
            assert int(ring.dsize[i]) == sb.data_end, (b, s)
        size = ref.size
        assert bytes(ring.data[b * size:(b + 1) * size]) == bytes(ref.data), b
        assert st_["delivered"] == len(delivered[b]), b


def assert_same_run(cfg, strategy, chunk=None):
    sim, rows, summary = run_engine(cfg, strategy, chunk)
    ref = simulate(cfg, strategy)
    assert len(rows) == len(ref.rows) == cfg["run"]["events"]
    for i, (got, want) in enumerate(zip(rows, ref.rows)):
        assert got == want, (
            f"row {i} differs:\n" + "\n".join(
                f"  {c}: engine {g} reference {w}"
                for c, g, w in zip(EVENT_COLUMNS, got, want) if g != w))
    assert_same_buffers(sim.ring, ref.buffers, ref.delivered)
    k = sim.state.k
    got = {name: int(k[i]) for i, name in ENGINE_COUNTERS.items()}
    got.update({name: int(sim.state.g[i]) for i, name in ENGINE_GLOBALS.items()})
    assert got == ref.counters
    assert int(sim.state.g[E.G_NOW]) == ref.now
    for i, name in enumerate(E.HIST_NAMES):
        h = sim.state.delivery if i == E.H_DELIV else sim.state.h[i]
        assert hist_dict(h) == dict(ref.hists[name]), name
    return sim, rows, summary, ref


# -- the tests -------------------------------------------------------------------

@pytest.mark.parametrize("strategy", STRATEGIES)
@FUZZ
@given(cfg=configs())
def test_engine_matches_reference(strategy, cfg):
    assert_same_run(cfg, strategy)


@pytest.mark.parametrize("strategy", ["nofault", "copy_then_commit",
                                      "restart_on_fault"])
def test_engine_matches_reference_on_a_busy_run(strategy):
    """One larger run where everything happens at once."""
    cfg = C.load({
        **MECHANICS,
        "run": {"seed": 11, "events": 600 if NO_JIT else 5000, "chunk_events": 97},
        "machine": {"n_cpus": 3, "tasks_per_cpu": 3, "timeslice_ns": 4000,
                    "p_migrate": 0.4},
        "buffer": {"subbuf_size": 1024, "n_subbuf": 4, "mode": "overwrite"},
        "reader": {"period_ns": 20_000, "bytes_per_ns": 0.2},
        "workload": {**MECHANICS["workload"], "think_ns": 1000.0, "user_pages": 32, "working_set_pages": 8,
                     "capture": "full"},
        "faults": {"model": "residency", "residency_ns": 5e4,
                   "p_major_given_missing": 0.2, "major_ns": 30_000.0,
                   "inject": [{"event": 7, "kind": "major", "delay_ns": 400_000}]},
    })
    _, rows, summary, ref = assert_same_run(cfg, strategy)
    assert summary["overwritten"] > 0 and summary["lost_big"] > 0
    want = {"nofault": ("data_missing",),
            "copy_then_commit": ("preemptions", "sleeps", "faults_minor",
                                 "faults_major", "migrations", "lost_wrap"),
            "restart_on_fault": ("preemptions", "sleeps", "restarts")}[strategy]
    assert all(summary[k] > 0 for k in want), {k: summary[k] for k in want}


@pytest.mark.parametrize("strategy", ["restart_on_fault", "copy_then_commit"])
def test_engine_matches_reference_under_reclaim(strategy):
    """Bernoulli faults with reclaim (faults.reclaim_ns): pages go missing
    again between prefetch and copy, so restart_on_fault restarts."""
    cfg = C.load({
        **MECHANICS,
        "run": {"seed": 3, "events": 400 if NO_JIT else 3000, "chunk_events": 61},
        "machine": {"n_cpus": 2, "tasks_per_cpu": 3, "timeslice_ns": 3000,
                    "p_migrate": 0.3},
        "buffer": {"subbuf_size": 4096, "n_subbuf": 4},
        "workload": {**MECHANICS["workload"], "think_ns": 1000.0, "user_pages": 32,
                     "working_set_pages": 8, "capture": "full"},
        "faults": {"p_minor": 0.05, "p_major": 0.01, "major_ns": 20_000.0,
                   "p_major_given_missing": 0.2, "reclaim_ns": 300.0},
    })
    _, _, summary, _ = assert_same_run(cfg, strategy)
    want = {"restart_on_fault": "restarts", "copy_then_commit": "faults_major"}
    assert summary[want[strategy]] > 0


@pytest.mark.parametrize("strategy", ["nofault", "copy_then_commit"])
def test_engine_matches_reference_with_a_slow_overwrite_reader(strategy):
    """Writers wrap round the buffer while each read is under way: the
    reader keeps what it reads (the engine's spare sub-buffer against the
    reference's copy taken at read start)."""
    cfg = C.load({
        **MECHANICS,
        "run": {"seed": 9, "events": 400 if NO_JIT else 3000, "chunk_events": 77},
        "machine": {"n_cpus": 2, "tasks_per_cpu": 2, "p_migrate": 0.2},
        "buffer": {"subbuf_size": 1024, "n_subbuf": 2, "mode": "overwrite"},
        "reader": {"period_ns": 3000, "bytes_per_ns": 0.02},
        "workload": {**MECHANICS["workload"], "think_ns": 500.0, "user_pages": 16,
                     "working_set_pages": 4, "capture": "full", "capture_max": 512},
        "faults": {"p_minor": 0.05, "p_major": 0.01, "major_ns": 20_000.0},
    })
    sim, _, summary, _ = assert_same_run(cfg, strategy)
    subbufs = int(sim.ring.st[:, B.SUBBUF_DELIVERED].sum())
    reads = summary["sim_time_ns"] / (1024 / 0.02) * cfg["machine"]["n_cpus"]
    assert summary["overwritten"] > summary["delivered"] > 0
    assert subbufs >= 0.9 * reads > 5        # every read delivered


def _summary_without_wall(summary):
    return {k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in summary.items() if k not in WALL}


def _stress_config(**run):
    return C.load({
        **MECHANICS,
        "run": {"seed": 5, "events": 300 if NO_JIT else 3000, **run},
        "machine": {"n_cpus": 2, "tasks_per_cpu": 3, "timeslice_ns": 5000,
                    "p_migrate": 0.3},
        "buffer": {"subbuf_size": 1024, "n_subbuf": 2},
        "reader": {"period_ns": 30_000},
        "workload": {**MECHANICS["workload"], "think_ns": 2000.0, "user_pages": 16, "working_set_pages": 4,
                     "capture": "full"},
        "faults": {"p_minor": 0.1, "p_major": 0.05, "major_ns": 20_000.0,
                   "inject": [{"event": 3, "kind": "major", "delay_ns": 1_000_000},
                              {"event": 40, "kind": "minor", "delay_ns": 5000}]},
        "strategies": USER,
    })


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_chunk_size_changes_nothing(strategy):
    cfg = _stress_config()
    _, rows1, sum1 = run_engine(cfg, strategy, chunk=1)
    _, rows2, sum2 = run_engine(cfg, strategy, chunk=4096)
    assert sorted(rows1) == sorted(rows2)
    assert rows1 == rows2                     # completion order too
    assert _summary_without_wall(sum1) == _summary_without_wall(sum2)


def test_no_verify_errors_for_builtin_strategies():
    cfg = _stress_config()
    assert cfg["reader"]["verify"]
    for name in S.BUILTIN:
        sim, _, summary = run_engine(cfg, name)
        assert summary["verify_errors"] == 0, name
        assert summary["events"] == cfg["run"]["events"], name
        ref = simulate(cfg, name)
        assert sum(b.count["verify_errors"] for b in ref.buffers) == 0, name


# -- the reference on its own (runs with the JIT on or off) ------------------------

@pytest.mark.parametrize("strategy", STRATEGIES)
@settings(max_examples=max(2, EXAMPLES // 4), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs(max_events=200))
def test_reference_invariants(strategy, cfg):
    """Every event completes once; every record is delivered or overwritten
    once the trace is flushed and drained; the reader finds no error."""
    ref = simulate(cfg, strategy, max_happenings=10**7)
    events = cfg["run"]["events"]
    EV, STATUS = EVENT_COLUMNS.index("event"), EVENT_COLUMNS.index("status")
    assert sorted(r[EV] for r in ref.rows) == list(range(events))
    assert ref.counters["events"] == events
    c = {k: sum(b.count[k] for b in ref.buffers) for k in ref.buffers[0].count}
    assert c["delivered"] + c["overwritten"] == c["records"]
    assert c["verify_errors"] == 0
    for b in ref.buffers:
        assert b.read == b.write
    status = [r[STATUS] for r in ref.rows]
    assert status.count(0) == events - ref.counters["lost_events"]
    assert status.count(1) == c["lost_full"]
    assert status.count(2) == c["lost_wrap"]
    assert status.count(3) == c["lost_big"]
    recorded = {r[EV] for r in ref.rows if r[STATUS] == 0}
    delivered = [e for d in ref.delivered for e, _, _ in d]
    assert len(set(delivered)) == len(delivered) and set(delivered) <= recorded
    if cfg["buffer"]["mode"] == "discard":
        assert set(delivered) == recorded


# a table-valued override replaces the default syscall mix
ONE_KIND = ['workload.syscalls={w={weight=1, payload="buffer", len_median=100}}']


def test_reference_timing_by_hand():
    """One task, no faults, no think time: the probe starts after the
    context switch that gives the task its CPU; its latency is the sum of the
    step costs of ``nofault``."""
    cfg = C.load({**MECHANICS, "run": {"events": 1},
                  "machine": {"n_cpus": 1, "tasks_per_cpu": 1},
                  "workload": {**MECHANICS["workload"], "think_ns": 0.0, "user_pages": 4,
                               "working_set_pages": 1},
                  "faults": {"p_minor": 0.0, "p_major": 0.0}}, ONE_KIND)
    ref = simulate(cfg, "nofault")
    (row,) = ref.rows
    r = dict(zip(EVENT_COLUMNS, row))
    c = {k: round(v * 1000) for k, v in C.resolved_costs(cfg).items()}
    assert r["payload_len"] == 100 and r["status"] == 0 and r["flags"] == 0
    steps = (c["preempt_off"]
             + c["clock_read"] + c["memcpy_byte"] * 40 + c["local_cmpxchg"]
             + c["copy_user_call"] + c["copy_user_byte"] * 100 + c["copy_from_user_extra"]
             + c["local_add"] + c["preempt_on"])
    assert r["start_ps"] == c["context_switch"]
    assert r["end_ps"] == c["context_switch"] + steps
    assert r["cpu_ps"] == steps
    assert r["preempt_off_ps"] == r["preempt_section_ps"] == steps
    assert r["pin_ps"] == (c["clock_read"] + c["memcpy_byte"] * 40
                           + c["local_cmpxchg"] + c["copy_user_call"]
                           + c["copy_user_byte"] * 100 + c["copy_from_user_extra"])
    (d,) = ref.delivered[0]
    assert d[0] == 0 and d[1] == 0
    assert bin_of(d[2]) in ref.hists["delivery"]


def test_reference_injected_major_fault_sleeps():
    """A 5 ms injected major fault inside kmalloc_bounce's copy: the task
    sleeps that long (the CPU is free meanwhile), then finishes."""
    cfg = C.load({**MECHANICS, "run": {"events": 1},
                  "machine": {"n_cpus": 1, "tasks_per_cpu": 1},
                  "workload": {**MECHANICS["workload"], "think_ns": 0.0, "user_pages": 4,
                               "working_set_pages": 1},
                  "faults": {"p_minor": 0.0, "p_major": 0.0,
                             "inject": [{"event": 0, "kind": "major",
                                         "delay_ns": 5_000_000}]}}, ONE_KIND)
    ref = simulate(cfg, "kmalloc_bounce")
    r = dict(zip(EVENT_COLUMNS, ref.rows[0]))
    assert r["faults_major"] == 1 and r["faults_minor"] == 0
    assert ref.counters["sleeps"] == 1
    switch = round(C.resolved_costs(cfg)["context_switch"] * 1000)
    # the sleep + the context switch at wake-up + the steps
    assert r["end_ps"] - r["start_ps"] == 5_000_000_000 + switch + r["cpu_ps"]


def test_work_a_tracer_skips_costs_nothing():
    """A payload-less event: no copy_from_user, no memcpy, no kmalloc/kfree
    (issue #16.3); fault_in and strnlen touch no page."""
    cfg = C.load({**MECHANICS, "run": {"events": 50},
                  "machine": {"n_cpus": 1, "tasks_per_cpu": 1},
                  "workload": {**MECHANICS["workload"], "user_pages": 4,
                               "working_set_pages": 4}},
                 ['workload.syscalls={exit={weight=1, payload="none"}}'])
    c = {k: round(v * 1000) for k, v in C.resolved_costs(cfg).items()}
    probe = (c["preempt_off"]                                   # strnlen: no string
             + c["clock_read"] + c["memcpy_byte"] * 40 + c["local_cmpxchg"]
             + c["local_add"] + c["preempt_on"])   # fault_in: no page; no copy
    cpu = EVENT_COLUMNS.index("cpu_ps")
    for name in S.BUILTIN:
        if name == "percpu_retry":
            continue                      # its context-switch reads and toggles
        _, rows, summary = run_engine(cfg, name)
        want = probe
        if name.startswith("copy_then_commit"):
            want += c["preempt_on"] + c["preempt_off"]   # its second N section
        if name == "copy_then_commit_atomic":
            want += c["atomic_cmpxchg"] - c["local_cmpxchg"] + c["atomic_add"] - c["local_add"]
        assert {r[cpu] for r in rows} == {want}, name
        assert summary["kmallocs"] == summary["copied_bytes"] == 0, name
