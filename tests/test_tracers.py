"""``fastring validate``: the real-tracer comparisons (fastring/tracers/).

No timing is asserted (the machine is shared); the tests check that a real
run fills both columns with finite figures, and that a missing tracer is bad
input (exit status 2) naming the install command."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fastring.tracers import Unavailable
from fastring.tracers import lttng_ust

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "fastring", *args],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT),
                               **(env or {})}, timeout=300)


def test_validate_without_lttng_exits_2_with_the_install_command(tmp_path):
    # an empty PATH: no lttng, no lttng-sessiond
    p = _cli("validate", "lttng-ust", "--events", "10", env={"PATH": str(tmp_path)})
    assert p.returncode == 2, p.stderr
    assert "not installed" in p.stderr
    assert "apt-get install -y lttng-tools liblttng-ust-dev babeltrace2" in p.stderr
    assert "Traceback" not in p.stderr


def test_validate_rejects_bad_options():
    p = _cli("validate", "lttng-ust", "--runs", "0")
    assert p.returncode == 2 and "--runs" in p.stderr
    p = _cli("validate", "no-such-tracer")
    assert p.returncode == 2


@pytest.mark.parametrize("module", ["lttng_ust", "ftrace"])
def test_config_keys_are_fastring_config_keys(module):
    """Each comparison's buffer settings are valid config keys, each with
    its source."""
    import importlib
    from fastring import config as C
    mod = importlib.import_module(f"fastring.tracers.{module}")
    for key, value in mod.CONFIG.items():
        assert key in mod.CONFIG_SOURCES
        sec, k = key.split(".")
        assert C.load({sec: {k: value}})[sec][k] == value


def _finite_positive(x):
    return isinstance(x, float) and math.isfinite(x) and x > 0


def _usable(module):
    """``module`` (a fastring.tracers module) if its tracer can run here,
    else skip the test saying why."""
    try:
        module.check()
    except Unavailable as exc:
        pytest.skip(f"{module.__name__} cannot run here: {exc}")
    return module


@pytest.mark.slow
def test_lttng_ust_small_comparison_fills_both_columns():
    _usable(lttng_ust)
    res = lttng_ust.compare(events=2000, runs=2, profile="default",
                            sim_events=500, threads_list=[1],
                            shapes=["int", "string64"], modes=("overwrite",))
    assert [(r["shape"], r["threads"]) for r in res["rows"]] == \
        [("int", 1), ("string64", 1)]
    for r in res["rows"]:
        assert _finite_positive(r["measured_cpu_ns"]), r
        assert _finite_positive(r["model_ns"]), r
        # the events were really recorded, not skipped
        assert r["recorded"] is None or r["recorded"] > 0, r
    text = lttng_ust.format_report(res, {"cpu_model": "test"})
    assert "| overwrite | int | 1 |" in text


@pytest.mark.slow
def test_ftrace_small_comparison_fills_both_columns():
    from fastring.tracers import ftrace
    _usable(ftrace)
    res = ftrace.compare(events=2000, runs=2, profile="default",
                         sim_events=500, sizes=(64,), dropped_sizes=(64,),
                         dropped_writes=20)
    (row,) = res["rows"]
    for key in ("on", "off", "null", "model"):
        assert _finite_positive(row[key]), (key, row)
    assert row["captured"] == 64
    (d,) = res["dropped"]
    # every write's copy really faulted (the pages were dropped), and the
    # model, told so, faults and retries once per event
    assert d["majflt"] >= 0.9, d
    assert d["model_faults"] == 1.0 and d["model_retries"] == 1.0, d
    assert _finite_positive(d["model_latency"]) and _finite_positive(d["wall"])
    text = ftrace.format_report(res, {"kernel": "test"})
    assert "| 64 | 64 |" in text

