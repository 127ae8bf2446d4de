"""Tests of ``fastring calibrate`` (fastring/calibrate.py)."""
from __future__ import annotations

import math
import os
import platform
import tomllib

import numba
import pytest

from fastring import calibrate
from fastring.cli import commands as cli
from fastring.world import costs

# calibration measures compiled code: nothing to measure with the JIT off
pytestmark = pytest.mark.skipif(numba.config.DISABLE_JIT,
                                reason="calibration measures compiled code")


@pytest.fixture(scope="module")
def quick_results():
    return calibrate.measure(repeats=3, quick=True)


def _fake_results():
    measured = {"clock_read": 23.5, "atomic_add": 2.0625,
                "memcpy_byte": 0.007306414698683670, "local_add": 1e-05,
                "kmalloc_kfree": 7.094661788491556}
    def st(v):
        return {"median": v, "p25": v * 0.9, "p75": v * 1.1, "min": v * 0.8,
                "max": v * 1.3, "repeats": 5, "what": "x"}
    return {
        "costs": {k: st(v) for k, v in measured.items()},
        "measured": {"minor_fault": dict(st(1234.5),
                                         what='a "quoted" \\ note')},
        "unmeasured": {"preempt_off": "kernel-only"},
        "notes": [],
        "host": {"cpu_model": 'Weird "CPU" \\ name', "cores": 2,
                 "kernel": "6.1.0"},
        "params": {"repeats": 5, "quick": False, "elapsed_s": 1.5},
    }, measured


def test_profile_round_trip(tmp_path):
    results, measured = _fake_results()
    path = tmp_path / "sub" / "host.toml"
    calibrate.write_profile(results, path)
    prof = costs.load_profile(str(path))
    for key in costs.COST_KEYS:
        assert prof[key] == measured.get(key, costs.DEFAULT[key]), key
    data = tomllib.loads(path.read_text())
    assert set(data["costs"]) == set(measured)
    assert data["host"]["cpu_model"] == 'Weird "CPU" \\ name'
    assert data["measured"]["minor_fault"] == 1234.5
    assert data["spread"]["clock_read"]["p75"] == 23.5 * 1.1
    # keys left out are listed in a comment so the reader knows
    text = path.read_text()
    for key in costs.COST_KEYS:
        if key not in measured:
            assert f"#   {key} = " in text
    # written under a temporary name, then renamed: nothing else is left
    assert [p.name for p in path.parent.iterdir()] == ["host.toml"]


def test_write_profile_rejects_unknown_key(tmp_path):
    results, _ = _fake_results()
    results["costs"]["no_such_cost"] = results["costs"]["clock_read"]
    with pytest.raises(ValueError, match="no_such_cost"):
        calibrate.write_profile(results, tmp_path / "x.toml")
    assert not (tmp_path / "x.toml").exists()


def test_atomic_add_exact_under_two_threads():
    n = 200_000
    total, expected = calibrate.atomic_add_threads(n, threads=2)
    assert expected == 2 * n
    assert total == 2 * n


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="the lock-prefix check is x86_64 only")
def test_lock_prefix_in_generated_code():
    found = calibrate.check_atomic_asm()
    assert found["atomic_add"].startswith("lock ")
    assert found["atomic_add_contended"].startswith("lock ")
    assert found["atomic_cmpxchg"] == "lock cmpxchgq"
    assert found["local_add"] == "no lock"
    assert found["local_cmpxchg"] == "no lock"
    assert found["memcpy"] == "calls memcpy"


def _finite_positive(st):
    return math.isfinite(st["median"]) and st["median"] > 0


def test_quick_calibration_numbers(quick_results):
    res = quick_results
    expected = {"local_add", "atomic_add", "local_cmpxchg", "atomic_cmpxchg",
                "memcpy_call", "memcpy_byte", "copy_user_call",
                "copy_user_byte", "kmalloc_kfree", "clock_read",
                "cs_count_read"}
    assert expected <= set(res["costs"])
    # measured, or left out with a reason (one CPU, or the second thread
    # never ran alongside on a busy host)
    assert ("atomic_add_contended" in res["costs"]) != \
        ("atomic_add_contended" in res["unmeasured"])
    if (os.cpu_count() or 1) == 1:
        assert "atomic_add_contended" in res["unmeasured"]
    for key, st in res["costs"].items():
        assert key in costs.COST_KEYS
        assert _finite_positive(st), (key, st)
        assert st["min"] <= st["p25"] <= st["median"] <= st["p75"] <= st["max"]
        # contended runs in which the other thread did not run are dropped
        if key == "atomic_add_contended":
            assert 1 <= st["repeats"] <= 3
        else:
            assert st["repeats"] == 3
    for name, st in res["measured"].items():
        assert _finite_positive(st), (name, st)
    # every cost key is either measured or explained
    for key in costs.COST_KEYS:
        assert key in res["costs"] or key in res["unmeasured"]
    # the pipe ping-pong ran (Linux); host-timing orderings (a locked add
    # slower than a plain one, ...) are benchmarks/calibration_sanity.py's
    if hasattr(os, "sched_setaffinity"):
        assert "context_switch" in res["costs"]
        assert {"pingpong_round_trip", "pipe_write_read"} <= set(res["measured"])

def test_quick_results_write_and_load(quick_results, tmp_path):
    path = calibrate.write_profile(quick_results, tmp_path / "q.toml")
    prof = costs.load_profile(str(path))
    for key, st in quick_results["costs"].items():
        assert prof[key] == st["median"]
    table = calibrate.format_table(quick_results)
    for key in quick_results["costs"]:
        st = quick_results["costs"][key]
        assert key in table
        assert f"{st['median'] / costs.DEFAULT[key]:.2f}x" in table
    assert "ratio" in table and "default" in table


def test_main_writes_profile(quick_results, tmp_path, capsys, monkeypatch):
    seen = {}

    def fake_measure(repeats=None, quick=False):   # reuse the quick run
        seen.update(repeats=repeats, quick=quick)
        return quick_results
    monkeypatch.setattr(calibrate, "measure", fake_measure)
    out = tmp_path / "cal.toml"
    assert cli.main(["calibrate", "--quick", "--repeats", "2", "--out", str(out)]) == 0
    assert seen == {"repeats": 2, "quick": True}
    text = capsys.readouterr().out
    assert "atomic_add" in text and str(out) in text
    prof = costs.load_profile(str(out))
    assert set(prof) == set(costs.COST_KEYS)


def test_main_rejects_bad_repeats(capsys):
    assert cli.main(["calibrate", "--repeats", "0"]) == 2
    assert "--repeats must be >= 1" in capsys.readouterr().err


def test_calibrated_profile_changes_the_run_where_costs_differ(quick_results, tmp_path):
    """A run under the host profile differs from the default one exactly
    through the costs: the same events, and each profile's preempt-off
    section is the sum of that profile's step costs."""
    import fastring

    path = tmp_path / "host.toml"
    calibrate.write_profile(quick_results, path)
    host = costs.load_profile(str(path))
    assert any(host[k] != costs.DEFAULT[k] for k in costs.COST_KEYS)
    length, header = 200, 40
    base = {"run": {"events": 2000, "strategies": ["nofault"]},
            "machine": {"n_cpus": 1, "tasks_per_cpu": 1},
            "workload": {"capture": "full"},       # the buffer is copied
            "faults": {"p_minor": 0.0, "p_major": 0.0}}
    mix = (f'workload.syscalls={{w={{weight=1.0, payload="buffer", '
           f'len_median={length}.0, len_sigma=0.0}}}}')
    runs = {}
    for name, profile in (("default", "default"), ("host", str(path))):
        runs[name] = fastring.run(base, overrides=[mix, f'costs.profile="{profile}"']
                                  ).runs.to_pylist()[0]
    assert runs["default"]["events"] == runs["host"]["events"] == 2000
    assert runs["default"]["payload_bytes"] == runs["host"]["payload_bytes"]
    for name, c in (("default", costs.DEFAULT), ("host", host)):
        # nofault: preempt_off, reserve (clock, cmpxchg, header), copy with
        # faults disabled (call, bytes, copy_from_user), local add, preempt_on
        section = (c["preempt_off"] + c["clock_read"] + c["local_cmpxchg"]
                   + c["memcpy_byte"] * header + c["copy_user_call"]
                   + c["copy_user_byte"] * length + c["copy_from_user_extra"]
                   + c["local_add"] + c["preempt_on"])
        assert runs[name]["preempt_section_p50_ns"] == pytest.approx(section, rel=0.01), name
    assert runs["default"]["cpu_ns_per_event"] != runs["host"]["cpu_ns_per_event"]
