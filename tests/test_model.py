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
from fastring.costs import DEFAULT as DEFAULT_COSTS
from fastring.api import Simulation
from fastring.rng import S_PAGE, u01_py
from fastring.strategies import BUILTIN

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


@pytest.mark.parametrize("mode,counter", [("overwrite", "lost_wrap"), ("discard", "lost_full")])
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
        from fastring import buffer as B
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
def test_same_tables_with_jit_off(tmp_path):
    code = ("import json, fastring;"
            "r = fastring.run({'run': {'events': 400}, 'faults': {'p_minor': 0.02, 'p_major': 0.005},"
            " 'machine': {'timeslice_ns': 2000}});"
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
