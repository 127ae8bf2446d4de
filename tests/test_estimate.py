"""Tests for fastring.sim.estimate: runs refused up front for their simulated
span (the int64 clock), their work or their memory (issue 17, items 1 and 3),
and the clamped percentiles (item 5)."""
import numpy as np
import pytest

import fastring
from fastring import api, config
from fastring.cli import commands as cli
from fastring.sim import estimate
from fastring.model import histogram, strategies
from fastring.world import prepare as world
from fastring.sim.estimate import EstimateError

SMALL = ["run.events=300", 'run.strategies=["nofault"]']
POLLING = ["run.events=0", "machine.n_cpus=1", "machine.tasks_per_cpu=1",
           "reader.period_ns=1", "workload.think_ns=1e12"]     # ~30 min of polls
HUGE = ["machine.n_cpus=1024", "machine.tasks_per_cpu=4096"]   # ~50 GiB


@pytest.mark.parametrize("overrides", [
    [], ["machine.n_cpus=3", "machine.tasks_per_cpu=5", "workload.capture_max=9000",
         "workload.user_pages=17", "workload.working_set_pages=5", "buffer.n_subbuf=8", "buffer.subbuf_size=512"],
    ["machine.n_cpus=1", "workload.capture_max=0", 'run.strategies=["percpu_retry"]'],
    ["machine.n_cpus=2", "workload.capture_max=70000", "buffer.payload=sizes"],
])
def test_memory_estimate_matches_the_arrays_allocated(overrides):
    """The estimator mirrors engine.new_state and buffer.new_ring: this fails
    when either changes without it."""
    cfg = config.load(overrides=overrides)
    progs = config.programs(cfg)
    for name, prog in progs.items():
        n_bounded = int((prog[:, strategies.SLOT] >= 0).sum())
        sim = api.Simulation(cfg, name, events_table=True, prog=prog)
        real = sum(a.nbytes for a in (*sim.state, *sim.ring))
        est = sum(estimate.state_bytes(cfg, n_bounded, cfg["run"]["chunk_events"]).values())
        assert est == real
        mem = estimate.estimate(cfg, config.resolved_costs(cfg), n_bounded).memory
        assert mem["workload.user_pages (the user-memory arena)"] == sim.world.arena.nbytes
        assert mem["machine.tasks_per_cpu x machine.n_cpus (working sets)"] \
            == sim.world.ws_base.nbytes


def test_polling_run_refused_unless_forced(monkeypatch):
    with pytest.raises(EstimateError, match=r"^reader\.period_ns: .*--force"):
        fastring.run(overrides=POLLING)
    # force runs it: shown on a span short enough to finish (limit lowered)
    short = [*POLLING[:-1], "workload.think_ns=1e4", 'run.strategies=["nofault"]']
    monkeypatch.setattr(estimate, "WORK_LIMIT_S", 1e-5)
    with pytest.raises(EstimateError, match="reader.period_ns"):
        fastring.run(overrides=short)
    res = fastring.run(overrides=short, force=True)
    assert res.runs.column("events").to_pylist() == [0]


def test_too_much_memory_refused_not_memoryerror():
    for ov, key in ((HUGE, r"\w+\.\w+"),            # the largest part's key
                    (["workload.user_pages=4194304"], "workload.user_pages")):
        limit = estimate.memory_limit()
        cfg = config.load(overrides=ov)
        est = estimate.estimate(cfg, config.resolved_costs(cfg))
        if est.memory_bytes <= limit:       # a machine with > 100 GiB of RAM
            pytest.skip("this machine has the memory for it")
        with pytest.raises(EstimateError, match=rf"^{key}: .*GiB.*--force"):
            fastring.run(overrides=ov)


def test_events_table_counts_in_memory(monkeypatch):
    cfg = config.load(overrides=["run.events=1e8"])
    costs = config.resolved_costs(cfg)
    a = estimate.estimate(cfg, costs).memory_bytes
    b = estimate.estimate(cfg, costs, events_table=True).memory_bytes
    assert b - a >= 6 * 1e8 * 100


def test_cli_refuses_with_exit_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", "--out", str(out), "--no-progress"]
    for ov in (POLLING, HUGE):
        rc = cli.main([*args, *[a for o in ov for a in ("--set", o)]])
        err = capsys.readouterr().err
        assert rc == 2 and "--force" in err, err
        assert not out.exists()


def test_cli_force_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(estimate, "WORK_LIMIT_S", 1e-9)
    args = ["run", "--out", str(tmp_path / "o"), "--no-progress",
            *[a for o in SMALL for a in ("--set", o)]]
    assert cli.main(args) == 2
    assert cli.main([*args, "--force"]) == 0
    assert (tmp_path / "o" / "runs.parquet").is_file()


def test_sweep_cell_over_the_limit_fails_alone():
    from fastring import sweep
    grid = sweep.load_grid({"run": {"events": 0, "strategies": ["nofault"]},
                            "machine": {"n_cpus": 1, "tasks_per_cpu": 1},
                            "workload": {"think_ns": 1e12},
                            "axes": {"reader.period_ns": [1, 10**9]}})
    bad = [c for c in grid.cells if c.error]
    assert len(bad) == 1 and bad[0].params == {"reader.period_ns": 1}
    assert bad[0].error.startswith("reader.period_ns: ")


def test_the_clock_backstop_refuses_a_wrapped_run():
    cfg = config.load(overrides=SMALL)
    sim = api.Simulation(cfg, "nofault")
    sim.advance()
    sim.state.g[api.E.GLOBAL_NOW] = -5                 # as a wrapped clock would
    with pytest.raises(api.ClockError, match="wrapped"):
        sim._check_clock()


def test_clock_estimate_covers_the_runs_it_lets_through():
    """The span estimate is on the high side of what runs simulate."""
    for ov in ([], ["machine.n_cpus=1", "machine.tasks_per_cpu=1",
                    "faults.p_major=0.2", "workload.think_ns=0"],
               ["faults.model=residency", "machine.n_cpus=2"]):
        cfg = config.load(overrides=[*SMALL, *ov])
        span = sum(estimate.span_parts(cfg, config.resolved_costs(cfg)).values())
        sim_ns = fastring.run(cfg).runs.column("sim_time_ns").to_pylist()[0]
        assert 0 < sim_ns <= span


def test_read_psb_is_the_engines():
    cfg = config.load()
    assert world.prepare(cfg).p[world.P_READ_PSB] == world.read_psb(1.0) == 10**6


# ---------------------------------------------------------------- item 5

def test_percentiles_clamped_to_the_exact_max():
    hist = np.zeros(histogram.N_BINS, np.int64)
    v = 355_010                                   # ps; its bin's midpoint is above
    histogram.record(hist, v)
    assert histogram.quantile(hist, 0.999) > v    # the bug this guards against
    qs = histogram.quantiles(hist, (0.5, 0.99, 0.999), v)
    assert qs == [v, v, v]
    lo, _ = histogram.bin_bounds(np.array([histogram.bin_of(v)]))
    assert histogram.quantiles(hist, (0.5,), lo[0] + 1) == [lo[0] + 1]
    assert all(np.isnan(histogram.quantiles(np.zeros_like(hist), (0.5, 0.9))))


def test_summary_percentiles_never_exceed_max():
    res = fastring.run(overrides=["run.events=1000"])
    for row in res.runs.to_pylist():
        for m, *_ in api.TIME_METRICS:
            p = [row[f"{m}_{q}_ns"] for q in ("p50", "p99", "p999", "max")]
            if not np.isnan(p[0]):
                assert p == sorted(p), (row["strategy"], m, p)
