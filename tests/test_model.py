"""What the model must show: each test states a consequence of the model
(docs/model.md) that a wrong engine would get wrong."""
import json
import os
import subprocess
import sys

import numpy as np
import pyarrow.compute as pc
import pytest

import fastring
from fastring import config as C
from fastring.world.costs import DEFAULT as DEFAULT_COSTS
from fastring.api import Simulation
from fastring.model.rng import S_PAGE, u01_py
from fastring.model.strategies import BUILTIN

ALL = list(BUILTIN)
NO_FAULTS = {"faults": {"p_minor": 0.0, "p_major": 0.0}}
BIG_BUFFER = {"buffer": {"subbuf_size": 1 << 20, "n_subbuf": 4},
              "reader": {"period_ns": 10_000, "bytes_per_ns": 100.0}}
VOLATILE = {"wall_s", "events_per_s"}
# the mechanics are checked in the plain world of the schema defaults (no
# tracer preset: full capture, 4 x 64 KiB buffers, a 100 us reader)
MECHANICS = {"tracer": {"preset": "none"}}


def load(source, overrides=()):
    return C.load({**MECHANICS, **source}, overrides)


def cfg(*parts, **run):
    merged = {}
    for part in parts:
        for section, values in part.items():
            merged.setdefault(section, {}).update(values)
    merged.setdefault("run", {}).update(run)
    return load(merged)


def runs(config, events_table=False):
    res = fastring.run(config, events_table=events_table)
    rows = {r["strategy"]: r for r in res.runs.to_pylist()}
    return (rows, res) if events_table else rows


def check_conservation(r):
    assert r["events"] == r["recorded"] + r["lost_full"] + r["lost_wrap"] + r["lost_big"]
    assert r["delivered"] + r["overwritten"] == r["recorded"]
    assert r["verify_errors"] == 0


def test_no_faults_no_migration_records_everything_with_expected_copies():
    c = cfg(NO_FAULTS, BIG_BUFFER, {"machine": {"p_migrate": 0.0}}, events=4000)
    rows, res = runs(c, events_table=True)
    ev = res.events
    for name, r in rows.items():
        check_conservation(r)
        assert r["recorded"] == r["events"] == 4000, name
        assert r["commits_remote"] == 0 and r["restarts"] == 0 and r["migrations"] == 0
        assert r["data_missing"] == 0
        mine = ev.filter(pc.equal(ev["strategy"], name))
        retried = int(pc.sum(pc.multiply(mine["retries"], mine["payload_len"])).as_py() or 0)
        expected = 2 if name in ("kmalloc_bounce", "percpu_retry") else 1
        assert r["copied_bytes"] == expected * r["payload_bytes"] + retried, name


def test_nofault_marks_data_missing_exactly_when_a_page_is_missing():
    c = cfg({"faults": {"p_minor": 0.03, "p_major": 0.01}}, BIG_BUFFER,
            events=3000, strategies=["nofault"])
    rows, res = runs(c, events_table=True)
    r = rows["nofault"]
    assert r["faults_minor"] == r["faults_major"] == 0 and r["sleeps"] == 0
    p = c["faults"]["p_minor"] + c["faults"]["p_major"]
    ev = res.events.to_pydict()
    n_missing = 0
    for event, addr, length, missing in zip(ev["event"], ev["user_addr"],
                                            ev["payload_len"], ev["data_missing"]):
        pages = 0 if length == 0 else (addr + length - 1) // 4096 - addr // 4096 + 1
        want = any(u01_py(c["run"]["seed"], S_PAGE, event, j) < p for j in range(pages))
        assert missing == want, event
        n_missing += want
    assert n_missing == r["data_missing"] > 0


def only_write(length, sigma=0.0):
    """Override that makes the mix one buffer-payload kind of this length."""
    return (f'workload.syscalls={{write={{weight=1.0, payload="buffer", '
            f'len_median={float(length)}, len_sigma={float(sigma)}}}}}')


def test_preempt_off_grows_with_payload_for_bounce_not_for_copy_then_commit():
    off = {}
    for length in (64, 4000):
        c = load({**NO_FAULTS, **BIG_BUFFER, "run": {"events": 2000,
                    "strategies": ["copy_then_commit", "kmalloc_bounce"]}},
                   [only_write(length)])
        rows = runs(c)
        off[length] = {n: r["preempt_off_max_ns"] for n, r in rows.items()}
    assert off[4000]["copy_then_commit"] == pytest.approx(off[64]["copy_then_commit"], rel=0.02)
    grow = off[4000]["kmalloc_bounce"] - off[64]["kmalloc_bounce"]
    # the hot memcpy from the bounce buffer, inside N
    assert grow >= 0.9 * DEFAULT_COSTS["memcpy_byte"] * (4000 - 64)


def test_remote_commit_only_after_migration_and_atomic_commits():
    c = cfg({"faults": {"p_major": 0.02, "major_ns": 20000.0}, "machine": {"p_migrate": 0.5}},
            BIG_BUFFER, events=4000,
            strategies=["copy_then_commit", "copy_then_commit_atomic"])
    rows, res = runs(c, events_table=True)
    ctc = rows["copy_then_commit"]
    assert ctc["commits_remote"] > 0
    assert ctc["commits_remote"] == ctc["migrations"]
    ev = res.events.filter(pc.and_(pc.equal(res.events["strategy"], "copy_then_commit"),
                                   pc.equal(res.events["status"], "recorded"))).to_pydict()
    moved = sum(a != b for a, b in zip(ev["reserve_cpu"], ev["commit_cpu"]))
    assert moved == ctc["commits_remote"]
    at = rows["copy_then_commit_atomic"]
    assert at["commits_atomic"] == at["recorded"]
    assert at["commits_local"] == at["commits_remote"] == 0
    assert at["atomic_ops"] == 2 * at["recorded"] + at["lost_full"] + at["lost_wrap"]


@pytest.mark.parametrize("mode,counter", [("overwrite", "lost_wrap"), ("discard", "lost_wrap")])
def test_long_major_fault_pins_subbuffer_and_others_drop(mode, counter):
    c = load({
        "run": {"events": 6000, "strategies": ["copy_then_commit", "kmalloc_bounce"]},
        "machine": {"n_cpus": 2, "tasks_per_cpu": 4, "p_migrate": 0.0},
        "buffer": {"subbuf_size": 4096, "n_subbuf": 4, "mode": mode},
        "reader": {"period_ns": 5000, "bytes_per_ns": 50.0},
        "faults": {"p_minor": 0.0, "p_major": 0.0,
                   "inject": [{"event": 1000, "kind": "major", "delay_ns": 5_000_000}]},
    }, [only_write(200, 0.3)])
    rows = runs(c)
    ctc, kb = rows["copy_then_commit"], rows["kmalloc_bounce"]
    assert ctc[counter] > 100
    assert ctc["pin_max_ns"] >= 5_000_000
    assert kb["lost_full"] + kb["lost_wrap"] + kb["lost_big"] == 0
    assert kb["faults_major"] == ctc["faults_major"] == 1
    for r in rows.values():
        check_conservation(r)


@pytest.mark.parametrize("mode", ["discard", "overwrite"])
def test_pinned_subbuffer_is_lost_wrap_not_lost_full(mode):
    """Issue #16's case: 1 CPU, 4 tasks, 4 x 4 KiB sub-buffers, a fast
    reader, 50 ms major faults injected inside copy_then_commit's copy. The
    faulting writer pins its sub-buffer; the others wrap round to it and
    drop their records as lost_wrap (LTTng's records_lost_wrap), in discard
    mode too: a full buffer (lost_full) would need a committed sub-buffer
    the fast reader has not consumed yet."""
    c = load({
        "run": {"events": 8000, "strategies": ["copy_then_commit"]},
        "machine": {"n_cpus": 1, "tasks_per_cpu": 4},
        "buffer": {"subbuf_size": 4096, "n_subbuf": 4, "mode": mode},
        "reader": {"period_ns": 1000, "bytes_per_ns": 100.0},
        "faults": {"p_minor": 0.0, "p_major": 0.0,
                   "inject": [{"event": 1000, "kind": "major", "delay_ns": 50_000_000}]},
    }, [only_write(200, 0.3)])
    r = runs(c)["copy_then_commit"]
    check_conservation(r)
    assert r["faults_major"] == 1
    assert r["lost_wrap"] > 1000
    assert r["lost_full"] == 0 and r["overwritten"] == 0


def test_a_copy_outcome_belongs_to_the_bytes_it_wrote():
    """Issue #17.4: a bounce copy that finds pages missing, then fault_in,
    then a slot copy that succeeds: the record holds the real bytes and is
    not DATA_MISSING (the bounce's zeros never reach the slot). Its
    mirror, a memcpy from a zeroed bounce buffer, is DATA_MISSING."""
    progs = {
        "leak": ["copy_user_to_bounce nofault", "fault_in", "preempt_off",
                 "reserve", "copy_user_to_slot nofault", "commit_local",
                 "preempt_on"],
        "zeros": ["copy_user_to_bounce nofault", "fault_in", "preempt_off",
                  "reserve", "memcpy_bounce_to_slot", "commit_local",
                  "preempt_on"],
    }
    c = load({"run": {"events": 2000, "strategies": list(progs)},
                "faults": {"p_minor": 0.5, "p_major": 0.0},
                "strategies": {k: {"program": v} for k, v in progs.items()}},
               [only_write(300, 1.0)])
    rows = runs(c)
    for r in rows.values():
        check_conservation(r)                 # verify_errors == 0 included
    assert rows["leak"]["data_missing"] == 0
    assert rows["leak"]["faults_minor"] > 500
    # the bounce copy found a page missing about as often as a page faulted
    assert rows["zeros"]["data_missing"] > 500


def test_payload_less_events_do_no_copy_and_no_kmalloc():
    """Issue #16.3: kmalloc_bounce allocates once per event with a payload,
    not once per event; copies move payload bytes only."""
    c = cfg(NO_FAULTS, BIG_BUFFER, events=3000,
            strategies=["kmalloc_bounce", "percpu_retry"])
    rows, res = runs(c, events_table=True)
    ev = res.events.filter(pc.equal(res.events["strategy"], "kmalloc_bounce"))
    with_payload = int(pc.sum(pc.greater(ev["payload_len"], 0)).as_py())
    assert 0 < with_payload < 3000
    kb = rows["kmalloc_bounce"]
    assert kb["kmallocs"] == with_payload
    assert kb["copied_bytes"] == 2 * kb["payload_bytes"]


def test_overwrite_reader_keeps_every_subbuffer_it_reads():
    """Issue #16.2: a reader far slower than the writers, in overwrite mode.
    The writers wrap round the whole buffer while each read is under way;
    LTTng's reader keeps the sub-buffer it reads (update_read_sb_index swaps
    a spare in), so every read delivers: one sub-buffer per read time, back
    to back, and the rest is overwritten."""
    c = load({"run": {"events": 20000, "strategies": ["nofault"]},
                "machine": {"n_cpus": 1, "tasks_per_cpu": 2},
                "buffer": {"subbuf_size": 4096, "n_subbuf": 4, "mode": "overwrite"},
                "reader": {"period_ns": 1000, "bytes_per_ns": 0.01},
                "workload": {"think_ns": 1000.0},
                "faults": {"p_minor": 0.0, "p_major": 0.0}})
    res = fastring.run(c)
    r = res.runs.to_pylist()[0]
    check_conservation(r)
    reads = r["sim_time_ns"] / (4096 / 0.01)       # back-to-back reads
    (buf,) = res.buffers.to_pylist()
    assert buf["subbufs_delivered"] >= 0.95 * reads > 50
    assert r["overwritten"] > r["delivered"] > 0


def test_injected_faults_never_vanish():
    """Issue #16.4: an injection whose event copies no user page forces
    nothing; it is counted in inject_unapplied and run() warns."""
    mix = ('workload.syscalls={exit={weight=1, payload="none"}, '
           'write={weight=1, payload="buffer", len_median=100.0}}')
    c = load({"run": {"events": 400, "strategies": ["kmalloc_bounce", "nofault"]},
                "faults": {"p_minor": 0.0, "p_major": 0.0,
                           "inject": [{"event": e, "kind": "major", "delay_ns": 10_000}
                                      for e in range(0, 40)]
                                     + [{"event": 400, "kind": "minor", "delay_ns": 1},
                                        {"event": 10**9, "kind": "minor", "delay_ns": 1}]}},
               [mix])
    with pytest.warns(RuntimeWarning, match="inject_unapplied"):
        rows, res = runs(c, events_table=True)
    ev = res.events.filter(pc.equal(res.events["strategy"], "kmalloc_bounce")).to_pydict()
    empty = sum(1 for e, n in zip(ev["event"], ev["payload_len"]) if e < 40 and n == 0)
    assert 0 < empty < 40
    for name, r in rows.items():
        assert r["inject_unapplied"] == empty + 2, name   # + the two never issued
    # kmalloc_bounce takes every other one as a sleep; nofault sees the page
    # missing (DATA_MISSING), which is the injection's effect on it
    assert rows["kmalloc_bounce"]["faults_major"] == 40 - empty
    assert rows["nofault"]["data_missing"] == 40 - empty


def test_cli_says_when_an_injection_forced_nothing(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "fastring", "run", "--events", "100",
         "--strategy", "nofault", "--out", str(tmp_path / "r"),
         "--set", 'faults.inject=[{event=500, kind="major", delay_ns=1000}]'],
        capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "1 of the 1 faults.inject entries forced no fault" in p.stderr


def test_no_warning_when_every_injection_applies():
    c = load({"run": {"events": 50, "strategies": ["copy_then_commit"]},
                "faults": {"inject": [{"event": 3, "kind": "major", "delay_ns": 1000}]}},
               [only_write(100)])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = runs(c)["copy_then_commit"]
    assert r["inject_unapplied"] == 0 and r["faults_major"] == 1


def test_reclaim_makes_restart_reachable_under_bernoulli():
    """Issue #16.8: without reclaim a bernoulli page prefetched by the event
    stays until its copy, so restart_on_fault never restarts; with reclaim
    (faults.reclaim_ns) it may go missing in between, and the restarts grow
    as the pages' mean lifetime shrinks. Every restart copies the payload
    again; no buffer byte is wasted (the rollback is always the last)."""
    rate = {}
    for reclaim in (0.0, 100_000.0, 1000.0, 100.0):
        c = cfg(BIG_BUFFER, {"faults": {"reclaim_ns": reclaim}}, events=20_000,
                strategies=["restart_on_fault"])
        r = runs(c)["restart_on_fault"]
        check_conservation(r)
        assert r["wasted_bytes"] == 0
        assert (r["copied_bytes"] > r["payload_bytes"]) == (r["restarts"] > 0)
        rate[reclaim] = r["restarts"]
    assert rate[0.0] == 0
    assert 0 < rate[100_000.0] < rate[1000.0] < rate[100.0]


def test_reclaim_shortens_residency_in_the_residency_model():
    out = {}
    for reclaim in (0.0, 1000.0):
        c = cfg(BIG_BUFFER, {"faults": {"model": "residency", "reclaim_ns": reclaim}},
                events=20_000, strategies=["restart_on_fault"])
        out[reclaim] = runs(c)["restart_on_fault"]
    assert out[0.0]["restarts"] == 0 < out[1000.0]["restarts"]
    assert out[1000.0]["faults_minor"] > 100 * max(out[0.0]["faults_minor"], 1)


def test_restart_on_fault_restarts_when_the_prefetched_page_is_evicted():
    c = cfg({"faults": {"model": "residency", "residency_ns": 200.0, "p_major_given_missing": 0.0}},
            BIG_BUFFER, events=3000, strategies=["restart_on_fault", "nofault"])
    rows = runs(c)
    r = rows["restart_on_fault"]
    assert r["restarts"] > 0 and r["faults_minor"] > 0
    assert r["wasted_bytes"] == 0      # no interrupts: a rollback is always the last one
    assert rows["nofault"]["data_missing"] > r["data_missing"]
    check_conservation(r)


def test_percpu_retry_retries_and_a_strategy_without_the_check_is_caught():
    torn = ["migrate_off", "copy_user_to_scratch", "preempt_off", "migrate_on",
            "reserve", "memcpy_scratch_to_slot", "commit_local", "preempt_on"]
    c = load({"run": {"events": 6000, "strategies": ["percpu_retry", "torn"]},
                "strategies": {"torn": {"program": torn}},
                "machine": {"timeslice_ns": 200, "tasks_per_cpu": 4},
                "faults": {"p_major": 0.01, "major_ns": 5000.0},
                **BIG_BUFFER})
    with pytest.warns(RuntimeWarning, match="torn"):
        rows = runs(c)
    assert rows["percpu_retry"]["retries"] > 0
    assert rows["percpu_retry"]["verify_errors"] == 0
    assert rows["torn"]["verify_errors"] > 0


def test_bad_input_runs_and_stays_consistent():
    cases = [
        cfg({"buffer": {"subbuf_size": 256}}, events=500),                 # most records lost_big
        cfg(events=0),
        cfg({"machine": {"n_cpus": 1, "tasks_per_cpu": 1}}, events=500),
        cfg({"faults": {"p_minor": 0.5, "p_major": 0.5, "major_ns": 1000.0}}, events=500),
    ]
    for c in cases:
        for r in runs(c).values():
            check_conservation(r)
            assert r["events"] == c["run"]["events"]
    big = runs(cases[0])
    assert all(r["lost_big"] > 0 for r in big.values())


def test_bytes_add_up():
    c = cfg({"buffer": {"subbuf_size": 1024, "n_subbuf": 2, "mode": "overwrite"},
             "faults": {"model": "residency", "residency_ns": 500.0}}, events=2000)
    for name in ALL:
        sim = Simulation(c, name)
        r = sim.run()
        from fastring.model import buffer as B
        st = sim.ring.st
        for b in range(st.shape[0]):
            wr = st[b, B.WR]
            assert wr == st[b, B.RECORDED_BYTES] + st[b, B.PADDING_BYTES] + st[b, B.WASTED_BYTES]
            n = sim.ring.geo[B.G_NSUB]
            assert sim.ring.cc[2 * b * n:2 * (b + 1) * n].sum() == wr
        check_conservation(r)


def _metrics(rows):
    return {n: {k: v for k, v in r.items() if k not in VOLATILE} for n, r in rows.items()}


def test_deterministic_and_chunk_size_independent():
    base = {"faults": {"p_minor": 0.01, "p_major": 0.002}, "machine": {"timeslice_ns": 2000}}
    a = _metrics(runs(cfg(base, events=3000, chunk_events=1)))
    b = _metrics(runs(cfg(base, events=3000, chunk_events=65536)))
    c = _metrics(runs(cfg(base, events=3000, chunk_events=777)))
    for name in a:
        a[name].pop("run.chunk_events"), b[name].pop("run.chunk_events"), c[name].pop("run.chunk_events")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) == json.dumps(c, sort_keys=True)


@pytest.mark.slow
@pytest.mark.parametrize("extra", [
    "",
    # overwrite mode with a slow reader (the reader's spare), reclaim
    ", 'buffer': {'mode': 'overwrite', 'subbuf_size': 1024, 'n_subbuf': 2},"
    " 'reader': {'bytes_per_ns': 0.05}",
])
def test_same_tables_with_jit_off(tmp_path, extra):
    faults = "'p_minor': 0.02, 'p_major': 0.005" + (", 'reclaim_ns': 500.0" if extra else "")
    code = ("import json, fastring;"
            "r = fastring.run({'run': {'events': 400}, 'faults': {" + faults + "},"
            " 'machine': {'timeslice_ns': 2000}" + extra + "});"
            "print(json.dumps([{k: v for k, v in row.items() if k not in ('wall_s', 'events_per_s')}"
            " for row in r.runs.to_pylist()], sort_keys=True))")
    out = {}
    for jit in ("0", "1"):
        env = {**os.environ, "NUMBA_DISABLE_JIT": jit}
        out[jit] = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                  capture_output=True, text=True).stdout
    assert out["0"] == out["1"]


def test_histogram_percentiles_within_one_percent_of_exact():
    c = cfg({"faults": {"p_minor": 0.01, "p_major": 0.002}}, events=20000,
            strategies=["copy_then_commit", "kmalloc_bounce"])
    rows, res = runs(c, events_table=True)
    for name, r in rows.items():
        ev = res.events.filter(pc.equal(res.events["strategy"], name))
        for metric, column in (("latency", "latency_ns"), ("preempt_off", "preempt_off_ns")):
            exact = np.sort(ev[column].to_numpy())
            for label, q in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999)):
                want = exact[int(np.ceil(q * len(exact))) - 1]
                assert r[f"{metric}_{label}_ns"] == pytest.approx(want, rel=0.01), (name, metric, label)
            assert r[f"{metric}_max_ns"] == exact[-1]
        pins = ev.filter(pc.is_valid(ev["pin_ns"]))["pin_ns"].to_numpy()
        pins = np.sort(pins[~np.isnan(pins)])
        assert r["pin_p99_ns"] == pytest.approx(pins[int(np.ceil(0.99 * len(pins))) - 1], rel=0.01)
        assert sum(r["latency_hist_count"]) == r["events"]
