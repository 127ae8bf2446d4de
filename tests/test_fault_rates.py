"""The default fault rates are the committed measurement's figures
(results/fault_rates/, made by benchmarks/fault_rates.py), and the script's
trace analysis counts what docs/model.md says it counts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import fault_rates as fr
from fastring import config as C

ROOT = Path(__file__).resolve().parents[1]
MEASURED = json.loads((ROOT / "results/fault_rates/fault_rates.json").read_text())


def test_defaults_equal_the_committed_measurement():
    faults = C.load({})["faults"]
    assert faults["p_minor"] == MEASURED["defaults"]["p_minor"]
    assert faults["p_major"] == MEASURED["defaults"]["p_major"]


def test_committed_defaults_follow_the_rule_from_the_committed_counts():
    for kind in ("minor", "major"):
        value, why = fr.default_rate(MEASURED, kind)
        assert MEASURED["defaults"][f"p_{kind}"] == value
        assert MEASURED["defaults_rule"][f"p_{kind}"] == why
    warm = MEASURED["pooled"]["warm"]
    assert warm["pages"] > 100_000                  # a real measurement
    assert set(MEASURED["programs"]) >= {"ls", "tar", "python", "gcc", "git"}


NAMES = {1: "write", 257: "openat", 0: "read"}
T = "           x-{pid}     [000] d....  10.{n:06d}: {ev}: {rest}"


def _trace(lines):
    return "\n".join(T.format(pid=pid, n=i, ev=ev, rest=rest)
                     for i, (pid, ev, rest) in enumerate(lines))


def test_analyse_counts_faults_on_captured_pages_only():
    text = _trace([
        # openat(AT_FDCWD, 0x5000010, ...): kernel faults the path's page
        (7, "sys_enter", "NR 257 (ffffff9c, 5000010, 0, 0, 0, 0)"),
        (7, "page_fault_kernel", "address=0x5000010 ip=strncpy_from_user error_code=0x0"),
        (7, "sys_exit", "NR 257 = 3"),
        # write(1, 0x7000ff0, 32): spans two pages; the second faults and is
        # read from storage (major); a fault elsewhere does not count
        (7, "page_fault_user", "address=0x7000ff0 ip=0x401000 error_code=0x6"),
        (7, "sys_enter", "NR 1 (1, 7000ff0, 20, 0, 0, 0)"),
        (7, "page_fault_kernel", "address=0x9000000 ip=_copy_to_user error_code=0x2"),
        (7, "page_fault_kernel", "address=0x7001000 ip=_copy_from_iter error_code=0x0"),
        (7, "mm_filemap_add_to_page_cache", "dev 0:0 ino 1 pfn=0x1 ofs=0 order=0"),
        (7, "sys_exit", "NR 1 = 32"),
        # read: a kernel-filled buffer, never counted
        (7, "sys_enter", "NR 0 (3, 8000000, 1000, 0, 0, 0)"),
        (7, "page_fault_kernel", "address=0x8000000 ip=_copy_to_iter error_code=0x2"),
        (7, "sys_exit", "NR 0 = 4096"),
        # a fault on the path page after the syscall ended does not count
        (7, "page_fault_kernel", "address=0x5000010 ip=strncpy_from_user error_code=0x0"),
    ])
    c = fr.analyse(text, NAMES)
    assert (c["events_string"], c["events_buffer"]) == (1, 1)
    assert (c["pages_string"], c["pages_buffer"]) == (1, 2)
    assert (c["minor_string"], c["major_string"]) == (1, 0)
    assert (c["minor_buffer"], c["major_buffer"]) == (0, 1)
    assert c["pages_user_faulted_before"] == 1          # 0x7000 page
    assert c["kernel_faults_user_addr"] == 5
    r = fr.rates(c)
    assert r["pages"] == 3 and r["minor"]["faults"] == 1 and r["major"]["faults"] == 1


def test_interval_is_clopper_pearson():
    lo, hi = fr.interval(0, 1000)
    assert lo == 0 and hi == pytest.approx(1 - 0.025 ** (1 / 1000), rel=1e-6)
    lo, hi = fr.interval(5, 1000)
    assert lo < 0.005 < hi
    assert (lo, hi) == pytest.approx((0.001624, 0.011624), abs=2e-5)


def test_without_root_it_exits_2_with_a_message(monkeypatch, capsys):
    monkeypatch.setattr(fr.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(fr.platform, "machine", lambda: "x86_64")
    with pytest.raises(SystemExit) as e:
        fr.ensure_tracefs()
    assert e.value.code == 2
    assert "root" in capsys.readouterr().err
