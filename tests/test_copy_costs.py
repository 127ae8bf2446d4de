"""The two copy costs: a cold user copy (``copy_user_call``/``copy_user_byte``,
every copy_from_user step) and a hot kernel memcpy (``memcpy_call``/
``memcpy_byte``, bounce or scratch buffer to slot, and the header write at
reserve). Engine and reference engine charge them identically."""
from __future__ import annotations

import pytest

from fastring import config as C
from fastring.world import costs
from fastring.reference.engine import EVENT_COLUMNS, simulate
from tests.test_engine_reference import run_engine

LENGTH, HEADER = 100, 40
ONE_KIND = [f'workload.syscalls={{w={{weight=1, payload="buffer", '
            f'len_median={LENGTH}}}}}']
# distinct powers of two (in ns) so that a key charged in the wrong place
# shows up in the sum
SPLIT = {"copy_user_call": 64.0, "copy_user_byte": 2.0,
         "memcpy_call": 8.0, "memcpy_byte": 0.5}


def _cfg():
    return C.load({"run": {"events": 20},
                   "machine": {"n_cpus": 1, "tasks_per_cpu": 1},
                   "workload": {"think_ns": 0.0, "user_pages": 4,
                                "working_set_pages": 1, "capture": "full"},
                   "faults": {"p_minor": 0.0, "p_major": 0.0},
                   "costs": SPLIT}, ONE_KIND)


def test_new_keys_are_cost_keys_with_sources():
    for key in ("copy_user_call", "copy_user_byte"):
        assert key in costs.COST_KEYS
        assert costs.SOURCES[key]
    # the cold copy is dearer than the hot one in the built-in profile
    d = costs.DEFAULT
    assert d["copy_user_call"] > d["memcpy_call"]
    assert d["copy_user_byte"] > d["memcpy_byte"]


@pytest.mark.parametrize("strategy", ["kmalloc_bounce", "percpu_retry",
                                      "nofault"])
def test_cold_user_copy_and_hot_memcpy_are_charged_apart(strategy):
    cfg = _cfg()
    c = {k: round(v * 1000) for k, v in C.resolved_costs(cfg).items()}
    cold = c["copy_user_call"] + c["copy_user_byte"] * LENGTH \
        + c["copy_from_user_extra"]
    hot = c["memcpy_call"] + c["memcpy_byte"] * LENGTH
    reserve = c["clock_read"] + c["memcpy_byte"] * HEADER + c["local_cmpxchg"]
    probe = {
        "nofault": c["preempt_off"] + reserve + cold + c["local_add"]
        + c["preempt_on"],
        "kmalloc_bounce": c["kmalloc_kfree"] + cold + c["preempt_off"]
        + reserve + hot + c["local_add"] + c["preempt_on"],
        "percpu_retry": 2 * c["preempt_off"] + 2 * c["preempt_on"]
        + c["migrate_off"] + c["migrate_on"] + 2 * c["cs_count_read"]
        + cold + reserve + hot + c["local_add"],
    }[strategy]
    cpu = EVENT_COLUMNS.index("cpu_ps")
    ref = simulate(cfg, strategy)
    _, rows, _ = run_engine(cfg, strategy)
    assert {r[cpu] for r in ref.rows} == {probe}
    assert {r[cpu] for r in rows} == {probe}


def test_defaults_citing_the_calibration_match_the_committed_file():
    """A default that cites results/calibration/host.toml is that file's
    median (rounded to the digits the source quotes): they cannot drift."""
    from pathlib import Path
    import tomllib
    path = Path(__file__).resolve().parents[1] / "results/calibration/host.toml"
    measured = tomllib.loads(path.read_text())["costs"]
    cited = [k for k, src in costs.SOURCES.items()
             if "results/calibration/host.toml" in src]
    assert {"memcpy_call", "memcpy_byte", "copy_user_call",
            "copy_user_byte"} <= set(cited)
    for key in cited:
        assert costs.DEFAULT[key] == pytest.approx(measured[key], rel=0.03), key
