"""``fastring fit``: a synthetic mix with the capture's statistics."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from fastring import api
from fastring import config as C
from fastring.world import fit as F
from fastring.world.capture import kind_payloads, raw_lengths
from fastring.data import CAPTURES, capture_path
from fastring.world.strace import parse

CHILD_ENV = {**os.environ, "PYTHONPATH": os.getcwd()}


def test_default_mix_is_the_fit_of_the_shipped_capture():
    from fastring.data import DEFAULT_MIX
    with open(DEFAULT_MIX) as fh:
        assert fh.read() == F.default_mix_toml()
    cap = parse(capture_path("python"))
    assert C.DEFAULTS["workload"]["syscalls"] == F.fit_mix(cap)


@pytest.mark.parametrize("name", CAPTURES)
def test_shipped_captures_parse_and_fit(name):
    cap = parse(capture_path(name))
    assert len(cap) > 500 and cap.stats["skipped"] == 0
    mix = F.fit_mix(cap)
    assert list(mix) == cap.names
    assert sum(m["weight"] for m in mix.values()) == len(cap)
    cfg = C.load(F.fit(cap))                            # the fit loads as a config
    assert cfg["workload"]["source"] == "synthetic"


@pytest.mark.slow
def test_a_million_synthetic_events_match_the_capture():
    """Kind shares within 1 point and median payload lengths within 5%."""
    cap = parse(capture_path("tar"))
    fitted = F.fit(cap)
    cfg = C.load(fitted, ["run.events=1000000", "run.strategies=['nofault']",
                          "workload.capture='full'", "workload.capture_max=1048576",
                          "workload.user_pages=1024", "reader.verify=false"])
    res = api.run(cfg, events_table=True)
    ev = res.events
    kinds = np.array(ev.column("syscall").to_pylist())
    lens = ev.column("payload_len").to_numpy()
    raw = raw_lengths(cap, kind_payloads(cap))
    for k, name in enumerate(cap.names):
        want = np.mean(cap.kind == k)
        got = np.mean(kinds == name)
        assert abs(got - want) <= 0.01, (name, got, want)
        if fitted["workload"]["syscalls"][name]["payload"] != "none" and (cap.kind == k).sum() >= 20:
            m_cap = max(1.0, float(np.median(raw[cap.kind == k])))
            m_sim = float(np.median(lens[kinds == name]))
            assert abs(m_sim - m_cap) <= 0.05 * m_cap, (name, m_sim, m_cap)


def test_cli_prints_a_summary_and_writes_a_config(tmp_path):
    out = tmp_path / "fit.toml"
    r = subprocess.run([sys.executable, "-m", "fastring", "fit",
                        capture_path("ls"), "--out", str(out)],
                       capture_output=True, text=True, env=CHILD_ENV)
    assert r.returncode == 0, r.stderr
    assert "syscalls" in r.stdout and "top kinds" in r.stdout and "think time" in r.stdout
    cfg = C.load(str(out))
    assert set(cfg["workload"]["syscalls"]) == set(parse(capture_path("ls")).names)
