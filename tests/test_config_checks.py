"""The config owns validation (issue 13, item 1): every check between keys
fails at ``config.load`` with the key, what is allowed and the value; the
strategy programs are compiled there; and a run loads and compiles once,
whichever way it starts (API, results directory, CLI, worker processes)."""
import json
import pickle

import pytest

import fastring
from fastring import api, config
from fastring.cli import commands as cli, common
from fastring.config import ConfigError
from fastring.config import loading
from fastring.io import results
from fastring.model import strategies as S

SMALL = ["run.events=300", 'run.strategies=["nofault", "copy_then_commit"]']
GOOD = ["preempt_off", "reserve", "copy_user_to_slot nofault", "commit_local",
        "preempt_on"]


def mine(program, **run):
    return {"strategies": {"mine": {"program": program}},
            "run": {"strategies": ["mine"], **run}}


# ------------------------------------------------- each check, at load

@pytest.mark.parametrize("source, overrides, message", [
    ({}, ["buffer.subbuf_size=256", "buffer.header_size=256"],
     "buffer.header_size: must be < buffer.subbuf_size (256), got 256"),
    ({}, ["workload.user_pages=8", "workload.working_set_pages=9"],
     "workload.working_set_pages: must be in [1, workload.user_pages (8)], got 9"),
    ({}, ["workload.user_pages=1", "workload.working_set_pages=1",
          "workload.capture_max=4097"],
     "workload.capture_max: must be <= workload.user_pages * 4096 = 4096"),
    ({}, ["faults.p_minor=0.75", "faults.p_major=0.5"],
     "faults.p_major: faults.p_minor + faults.p_major must be <= 1, got 0.75 + 0.5"),
    ({}, ['run.strategies=["nofault", "nope"]'],
     "run.strategies[1]: unknown strategy 'nope'; known: nofault, kmalloc_bounce"),
    ({}, ["workload.source=trace"],
     "workload.trace: must name an strace capture when workload.source = 'trace', got ''"),
    ({}, ["workload.source=trace", "workload.trace=/nonexistent/x.strace"],
     "workload.trace: no such file: '/nonexistent/x.strace'"),
    ({"workload": {"source": "trace", "trace": "x"}, "run": {"events": 5}}, [],
     "run.events: must not be set with workload.source = 'trace'"),
    (mine(["reserve", "commit"]), [],
     "strategies.mine.program[1]: unknown step 'commit'"),
    (mine(["preempt_off", "reserve", "preempt_on"]), [],
     "strategies.mine: at the end of a path a reservation is never committed"),
    (mine([]), [], "strategies.mine.program: must be a non-empty list"),
    ({}, ["reader.bytes_per_ns=1e-13"], "reader.bytes_per_ns: reading one sub-buffer"),
    ({}, ["faults.sigma=10"], "faults.major_ns / faults.sigma: one random delay"),
])
def test_each_check_fails_at_load(source, overrides, message):
    with pytest.raises(ConfigError) as exc:
        config.load(source, overrides)
    assert str(exc.value).startswith(message), str(exc.value)


def test_a_bad_program_fails_at_load_not_later():
    """The issue's example: it used to pass load and fail at run."""
    with pytest.raises(S.ProgramError, match=r"program\[1\]: unknown step 'commit'"):
        config.load(mine(["reserve", "commit"]))
    # a program the checker refuses for its path, not its syntax
    with pytest.raises(ConfigError, match=r"program\[0\] \(reserve\): reserve "
                                          r"outside a preempt-off section"):
        config.load(mine(["reserve", "commit_local"]))
    assert issubclass(S.ProgramError, ConfigError)    # load raises ConfigErrors only


def test_allow_unsafe_is_read_at_load():
    unsafe = ["preempt_off", "reserve", "commit_unsafe", "preempt_on"]
    with pytest.raises(S.ProgramError, match="live.allow_unsafe"):
        config.load(mine(unsafe))
    cfg = config.load(mine(unsafe), ["live.allow_unsafe=true"])
    assert config.programs(cfg)["mine"][2, S.OP] == S.COMMIT_UNSAFE


def test_a_bad_program_exits_2_from_the_cli_before_any_file(tmp_path, capsys):
    toml = tmp_path / "bad.toml"
    toml.write_text('[strategies.mine]\nprogram = ["reserve", "commit"]\n'
                    '[run]\nstrategies = ["mine"]\n')
    out = tmp_path / "out"
    assert cli.main(["run", "--config", str(toml), "--out", str(out)]) == cli.EXIT_USAGE
    assert "strategies.mine.program[1]: unknown step 'commit'" in capsys.readouterr().err
    assert not out.exists()


def test_builtin_names_come_from_strategies():
    assert config.BUILTIN_STRATEGIES is S.NAMES == tuple(S.BUILTIN)
    assert config.SCHEMA["strategies"].reserved is S.NAMES
    assert config.DEFAULTS["run"]["strategies"] == list(S.NAMES)


# ------------------------------------------------- what load returns

def test_a_loaded_config_is_the_dict_users_had():
    cfg = config.load(overrides=SMALL)
    assert isinstance(cfg, dict) and isinstance(cfg, config.Config)
    assert json.loads(config.to_json(cfg)) == cfg
    assert repr(cfg) == repr(dict(cfg))
    assert list(config.programs(cfg)) == ["nofault", "copy_then_commit"]
    back = pickle.loads(pickle.dumps(cfg))               # as workers receive it
    assert back == cfg and back.is_current()
    assert config.programs(back)["nofault"].tolist() == cfg.programs["nofault"].tolist()


def test_an_edited_config_is_checked_again():
    cfg = config.load(overrides=SMALL)
    cfg["buffer"]["n_subbuf"] = 3
    assert not cfg.is_current()
    with pytest.raises(ConfigError, match="buffer.n_subbuf"):
        fastring.run(cfg)
    cfg = config.load(overrides=SMALL)
    cfg["run"]["strategies"] = ["percpu_retry"]
    assert list(config.programs(cfg)) == ["percpu_retry"]   # not the stale ones
    assert list(config.load(cfg).programs) == ["percpu_retry"]


def test_override_pairs_are_values_not_text():
    """The CLI passes the --strategy list as a value: nothing re-parses it."""
    cfg = config.load(overrides=[("run.strategies", ["nofault"]), ("run.events", 300)])
    assert cfg["run"]["strategies"] == ["nofault"] and cfg["run"]["events"] == 300
    with pytest.raises(ConfigError, match="neither a built-in profile"):
        config.load(overrides=[("costs.profile", "1e3")])      # a string, kept
    with pytest.raises(ConfigError, match=r"costs.profile: must be a string, got 1000.0"):
        config.load(overrides=["costs.profile=1e3"])            # text: a TOML float
    args = cli._parser("run").parse_args(["run", "--strategy", "nofault", "--strategy",
                                     "percpu_retry", "--events", "300"])
    assert common.overrides(args) == [("run.strategies", ["nofault", "percpu_retry"]),
                                    ("run.events", 300)]


# ------------------------------------------------- once per run

@pytest.fixture
def counted(monkeypatch):
    """Counts whole-config checks (a load that validates) and compilations."""
    calls = {"checks": 0, "compiles": 0}
    check_whole, compile_program = loading.check_whole, S.compile_program

    def counting_check(cfg):
        calls["checks"] += 1
        return check_whole(cfg)

    def counting_compile(*a, **kw):
        calls["compiles"] += 1
        return compile_program(*a, **kw)

    monkeypatch.setattr(loading, "check_whole", counting_check)
    monkeypatch.setattr(S, "compile_program", counting_compile)
    return calls


def test_run_loads_and_compiles_once(counted):
    fastring.run(overrides=SMALL, jobs=1)
    assert counted == {"checks": 1, "compiles": 2}
    cfg = config.load(overrides=SMALL)
    counted.update(checks=0, compiles=0)
    fastring.run(cfg, jobs=1)                  # already loaded: nothing again
    fastring.run(cfg, jobs=1, events_table=True)
    assert counted == {"checks": 0, "compiles": 0}


def test_run_to_dir_loads_and_compiles_once(counted, tmp_path):
    results.run_to_dir(tmp_path / "out", overrides=SMALL)
    assert counted == {"checks": 1, "compiles": 2}


def test_the_cli_walk_loads_the_config_once(counted, tmp_path):
    """``fastring run --set faults.p_major=1e-3``: the user's config is
    checked and compiled once (the warm-up, a tiny run of its first strategy
    that compiles the kernels, is a run and a load of its own)."""
    assert cli.main(["run", "--set", "faults.p_major=1e-3", "--events", "300",
                     "--strategy", "nofault", "--strategy", "copy_then_commit",
                     "--jobs", "1", "--no-progress", "--out", str(tmp_path)]) == 0
    assert counted == {"checks": 2, "compiles": 3}      # run: 1 and 2; warm-up: 1 and 1


def test_workers_take_the_programs_they_were_sent(counted):
    """sim.parallel pickles the loaded config to each worker: unpickled, it
    still carries its programs, so a worker compiles nothing."""
    cfg = pickle.loads(pickle.dumps(config.load(overrides=SMALL)))
    counted.update(checks=0, compiles=0)
    summary, _, _ = api.simulate_strategy(cfg, "copy_then_commit")
    assert summary["events"] == 300
    assert counted == {"checks": 0, "compiles": 0}
