"""Tests for fastring.config: defaults, loading, overrides, errors, flatten."""
import copy
import json

import pytest

from fastring import config
from fastring.config import ConfigError


def test_defaults_validate_and_round_trip():
    cfg = config.load()
    assert cfg == config.validate(cfg)
    assert cfg["tracer"]["preset"] == "lttng-modules"
    assert cfg["buffer"]["subbuf_size"] == 1 << 20     # the preset's
    assert cfg["run"]["strategies"] == list(config.BUILTIN_STRATEGIES)
    assert {"openat", "newfstatat", "close", "read", "write"} <= set(
        cfg["workload"]["syscalls"])                  # fitted from a real capture
    # the JSON of a config reads back as the same config
    assert config.validate(json.loads(config.to_json(cfg))) == cfg
    assert config.to_json(config.validate(json.loads(config.to_json(cfg)))) \
        == config.to_json(cfg)


def test_default_types_are_normalized():
    cfg = config.load()
    assert type(cfg["run"]["events"]) is int
    assert type(cfg["reader"]["bytes_per_ns"]) is float
    assert type(cfg["workload"]["syscalls"]["close"]["len_median"]) is float


def test_load_toml_file(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text(
        '[buffer]\nmode = "overwrite"\nsubbuf_size = 4096\n'
        '[faults]\np_major = 0.5\n'
        'inject = [{event = 9, kind = "major", delay_ns = 5000000},'
        ' {event = 3, kind = "minor", delay_ns = 0}]\n'
        '[workload.syscalls.openat]\nweight = 2\n'
        '[workload.syscalls.mmap]\nweight = 0.1\npayload = "buffer"\n'
        '[strategies.mine]\nprogram = ["preempt_off", "reserve", "commit_local", '
        '"preempt_on"]\n'
        '[run]\nstrategies = ["nofault", "mine"]\n')
    for src in (path, str(path)):
        cfg = config.load(src)
        assert cfg["buffer"]["mode"] == "overwrite"
        assert cfg["buffer"]["subbuf_size"] == 4096
        assert cfg["buffer"]["n_subbuf"] == 4               # default kept
        assert cfg["faults"]["p_major"] == 0.5
        assert [e["event"] for e in cfg["faults"]["inject"]] == [3, 9]
        mix = cfg["workload"]["syscalls"]
        assert mix["openat"] == {**config.DEFAULTS["workload"]["syscalls"]["openat"],
                                 "weight": 2.0}
        assert mix["mmap"] == {"weight": 0.1, "payload": "buffer",
                               "len_median": 1.0, "len_sigma": 0.0}
        assert "read" in mix                                # merged, not replaced
        assert cfg["strategies"]["mine"]["description"] == ""
        assert cfg["run"]["strategies"] == ["nofault", "mine"]


def test_replace_mix():
    src = {"workload": {"replace_mix": True, "syscalls": {"openat": {"weight": 1}}}}
    assert list(config.load(src)["workload"]["syscalls"]) == ["openat"]
    src["workload"]["replace_mix"] = False
    assert len(config.load(src)["workload"]["syscalls"]) > 1
    assert list(config.load({"workload": {"syscalls": {"x": {"weight": 1}}}},
                            ["workload.replace_mix=true"])["workload"]["syscalls"]) == ["x"]


def test_overrides():
    cfg = config.load(overrides=[
        "buffer.mode=overwrite", "faults.p_major=1e-3", "run.events=1e6",
        "workload.syscalls.openat.weight=0.5", "reader.verify=false",
        'run.strategies=["nofault", "percpu_retry"]', "costs.clock_read=3"])
    assert cfg["buffer"]["mode"] == "overwrite"
    assert cfg["faults"]["p_major"] == 1e-3
    assert cfg["run"]["events"] == 1_000_000
    assert type(cfg["run"]["events"]) is int
    assert cfg["workload"]["syscalls"]["openat"]["weight"] == 0.5
    assert cfg["workload"]["syscalls"]["openat"]["payload"] == "string"
    assert cfg["reader"]["verify"] is False
    assert cfg["run"]["strategies"] == ["nofault", "percpu_retry"]
    assert config.resolved_costs(cfg)["clock_read"] == 3.0
    assert config.resolved_costs(cfg)["local_add"] == 0.3


def test_overrides_win_over_source():
    cfg = config.load({"buffer": {"n_subbuf": 8}}, ["buffer.n_subbuf=16"])
    assert cfg["buffer"]["n_subbuf"] == 16


def test_whole_table_override_replaces_the_mix():
    cfg = config.load(overrides=[
        'workload.syscalls={read = {weight = 1, payload = "buffer"}}'])
    assert list(cfg["workload"]["syscalls"]) == ["read"]
    assert cfg["workload"]["syscalls"]["read"]["len_median"] == 1.0


def test_inputs_not_mutated():
    src = {"workload": {"syscalls": {"openat": {"weight": 1}}},
           "faults": {"inject": [{"event": 5, "kind": "minor", "delay_ns": 1},
                                 {"event": 1, "kind": "major", "delay_ns": 2}]}}
    src_copy = copy.deepcopy(src)
    overrides = ["workload.syscalls.openat.len_sigma=1"]
    defaults_copy = copy.deepcopy(config.DEFAULTS)
    cfg = config.load(src, overrides)
    assert src == src_copy and overrides == ["workload.syscalls.openat.len_sigma=1"]
    assert config.DEFAULTS == defaults_copy
    full = config.load()
    full_copy = copy.deepcopy(full)
    out = config.validate(full)
    out["buffer"]["mode"] = "overwrite"
    assert full == full_copy
    cfg["workload"]["syscalls"]["openat"]["weight"] = 7.0
    assert config.load()["workload"]["syscalls"]["openat"]["weight"] == \
        config.DEFAULTS["workload"]["syscalls"]["openat"]["weight"] != 7.0


def test_flatten():
    flat = config.flatten(config.load(overrides=["costs.memcpy_byte=0.1",
                                                 "costs.clock_read=1"]))
    keys = list(flat)
    assert flat["buffer.subbuf_size"] == 1 << 20
    assert flat["buffer.mode"] == "discard"
    assert keys[:4] == ["run.seed", "run.events", "run.strategies",
                        "run.chunk_events"]
    assert json.loads(flat["workload.syscalls"])["openat"]["weight"] == \
        config.DEFAULTS["workload"]["syscalls"]["openat"]["weight"]
    assert flat["faults.inject"] == "[]"
    assert flat["strategies"] == "{}"
    assert keys[-4:] == ["costs.profile", "costs.clock_read",
                         "costs.memcpy_byte", "strategies"]
    assert all(not isinstance(v, (list, dict)) for v in flat.values())


@pytest.mark.parametrize("overrides, key", [
    (["nosuch.x=1"], "nosuch"),
    (["buffer.nosuch=1"], "buffer.nosuch"),
    (["machine.n_cpus=true"], "machine.n_cpus"),
    (["machine.n_cpus=2.5"], "machine.n_cpus"),
    (["faults.p_minor=abc"], "faults.p_minor"),
    (['faults.p_minor="0.1"'], "faults.p_minor"),
    (["buffer.subbuf_size=1000"], "buffer.subbuf_size"),
    (["buffer.subbuf_size=128"], "buffer.subbuf_size"),
    (["buffer.n_subbuf=3"], "buffer.n_subbuf"),
    (["buffer.header_size=44"], "buffer.header_size"),
    (["buffer.subbuf_size=256", "buffer.header_size=256"], "buffer.header_size"),
    (["buffer.mode=sideways"], "buffer.mode"),
    (["buffer.payload=none"], "buffer.payload"),
    (["faults.p_minor=1.5"], "faults.p_minor"),
    (["machine.p_migrate=-0.1"], "machine.p_migrate"),
    (["faults.p_minor=0.6", "faults.p_major=0.6"], "faults.p_major"),
    (["faults.p_minor=nan"], "faults.p_minor"),
    (["faults.minor_ns=-1"], "faults.minor_ns"),
    (["workload.think_ns=-5"], "workload.think_ns"),
    (["reader.bytes_per_ns=0"], "reader.bytes_per_ns"),
    (["reader.verify=yes"], "reader.verify"),
    (["workload.working_set_pages=5000"], "workload.working_set_pages"),
    (["run.strategies=[\"nofault\", \"nope\"]"], "run.strategies[1]"),
    (["run.strategies=[]"], "run.strategies"),
    (["run.strategies=[\"nofault\", \"nofault\"]"], "run.strategies[1]"),
    (["run.events=-1"], "run.events"),
    (["workload.syscalls.blob.payload=string"], "workload.syscalls.blob.weight"),
    (["workload.syscalls.openat.payload=blob"], "workload.syscalls.openat.payload"),
    (["workload.syscalls.openat.color=1"], "workload.syscalls.openat.color"),
    (["workload.syscalls={}"], "workload.syscalls"),
    (['workload.syscalls={"bad-name" = {weight = 1}}'], "workload.syscalls"),
    (["faults.inject=[{event = 1, kind = \"huge\", delay_ns = 5}]"],
     "faults.inject[0].kind"),
    (["faults.inject=[{event = 1, kind = \"minor\", delay_ns = 5},"
      " {event = -2, kind = \"minor\", delay_ns = 5}]"], "faults.inject[1].event"),
    (["faults.inject=[{event = 1, kind = \"minor\", delay_ns = 5},"
      " {event = 1, kind = \"major\", delay_ns = 5}]"], "faults.inject[1].event"),
    (["faults.inject=[{event = 1, kind = \"minor\"}]"], "faults.inject[0].delay_ns"),
    (["faults.inject=[{event = 1, kind = \"minor\", delay_ns = 1, x = 1}]"],
     "faults.inject[0].x"),
    (["faults.inject=3"], "faults.inject"),
    (["costs.profile=nosuch_profile"], "costs.profile"),
    (["costs.clock_read=-1"], "costs.clock_read"),
    (["costs.warp_drive=1"], "costs.warp_drive"),
    (["strategies.nofault.program=[\"a\"]"], "strategies.nofault"),
    (["strategies.mine.program=[]"], "strategies.mine.program"),
    (["strategies.mine.program=[\"a\", \"\"]"], "strategies.mine.program[1]"),
    (["strategies.mine.description=\"no program\""], "strategies.mine.program"),
    (["buffer.mode.x=1"], "buffer.mode"),
])
def test_errors_name_the_key(overrides, key):
    with pytest.raises(ConfigError) as exc:
        config.load(overrides=overrides)
    assert key in str(exc.value)


def test_error_messages_give_range_and_value():
    with pytest.raises(ConfigError, match=r"buffer\.subbuf_size: must be a power "
                       r"of two in \[256, 1073741824\], got 1000"):
        config.load(overrides=["buffer.subbuf_size=1000"])
    with pytest.raises(ConfigError, match=r"machine\.n_cpus: .*integer.*True \(bool\)"):
        config.load({"machine": {"n_cpus": True}})
    with pytest.raises(ConfigError, match=r"faults\.p_minor: .*\[0, 1\].*'abc'"):
        config.load(overrides=["faults.p_minor=abc"])
    with pytest.raises(ConfigError, match=r"^buffer\.payload: must be one of "
                       r"'bytes', 'sizes', got 'none'$"):
        config.load(overrides=["buffer.payload=none"])
    with pytest.raises(ConfigError, match="known keys: subbuf_size, n_subbuf"):
        config.load({"buffer": {"subbuf": 4096}})
    with pytest.raises(ConfigError, match="known sections: run, machine"):
        config.load({"bufer": {}})


def test_int_key_accepts_integral_float_and_float_key_accepts_int():
    cfg = config.load({"run": {"events": 2e3}, "faults": {"p_minor": 0}})
    assert cfg["run"]["events"] == 2000 and type(cfg["run"]["events"]) is int
    assert type(cfg["faults"]["p_minor"]) is float


def test_bad_toml_and_unreadable_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[buffer\nmode = ")
    with pytest.raises(ConfigError, match="bad.toml"):
        config.load(bad)
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match="missing.toml"):
        config.load(str(missing))


def test_costs_profile_file(tmp_path):
    prof = tmp_path / "host.toml"
    prof.write_text("[costs]\nclock_read = 7.5\n")
    cfg = config.load(overrides=[f'costs.profile="{prof}"', "costs.local_add=0.5"])
    costs = config.resolved_costs(cfg)
    assert costs["clock_read"] == 7.5 and costs["local_add"] == 0.5
    prof.write_text("[costs]\nclock_read = -1\n")
    with pytest.raises(ConfigError, match="costs.profile"):
        config.load(overrides=[f'costs.profile="{prof}"'])


def test_validate_wants_a_complete_config():
    cfg = config.load()
    del cfg["buffer"]["mode"]
    with pytest.raises(ConfigError, match="buffer.mode"):
        config.validate(cfg)
    cfg = config.load()
    del cfg["reader"]
    with pytest.raises(ConfigError, match="reader"):
        config.validate(cfg)


def test_bad_override_syntax():
    with pytest.raises(ConfigError, match="buffer.mode"):
        config.load(overrides=["buffer.mode"])
    with pytest.raises(ConfigError):
        config.load(overrides=["buffer..mode=discard"])


def test_user_strategy_and_sorted_inject():
    mine = ["preempt_off", "reserve", "commit_local", "preempt_on"]
    cfg = config.load({
        "strategies": {"mine": {"program": mine, "description": "test"}},
        "run": {"strategies": ["mine"]},
        "faults": {"inject": [{"event": 10, "kind": "major", "delay_ns": 5e6},
                              {"event": 2, "kind": "minor", "delay_ns": 0}]}})
    assert cfg["strategies"]["mine"] == {"program": mine, "description": "test"}
    assert cfg["faults"]["inject"] == [
        {"event": 2, "kind": "minor", "delay_ns": 0},
        {"event": 10, "kind": "major", "delay_ns": 5_000_000}]
    with pytest.raises(ConfigError, match="strategies: name 'Mine'"):
        config.load({"strategies": {"Mine": {"program": ["x"]}}})


# ------------------------------------------------- derived values (issue 17)

@pytest.mark.parametrize("overrides, key, allowed", [
    (["reader.bytes_per_ns=1e-300"], "reader.bytes_per_ns", "must be >"),
    (["reader.bytes_per_ns=1e-13"], "reader.bytes_per_ns", "must be >"),
    (["costs.context_switch=1e16"], "costs.context_switch", "[0, 1e+09]"),
    (["workload.user_pages=1", "workload.working_set_pages=1",
      "workload.capture_max=5000"], "workload.capture_max", "<= workload.user_pages"),
    (["costs.clock_read=inf"], "costs.clock_read", "[0, 1e+09]"),
    (["faults.sigma=10"], "faults.major_ns / faults.sigma", "limit"),
    (["faults.model=residency", "faults.residency_ns=1e15"],
     "faults.residency_ns", "limit"),
    (["machine.n_cpus=1", "machine.tasks_per_cpu=1", "workload.think_ns=1e12",
      "reader.period_ns=1e12", "run.events=10000"],
     "run.events / workload.think_ns", "107 days"),
])
def test_derived_values_are_checked(overrides, key, allowed):
    """A value in its key's range may still overflow what the engine
    computes from it (issue 17): refused at load time, naming the key."""
    with pytest.raises(ConfigError) as exc:
        config.load(overrides=overrides)
    assert str(exc.value).startswith(key) and allowed in str(exc.value)


def test_the_clock_limit_lets_long_but_safe_runs_through():
    # the repro shortened 10x: 1e15 ns simulated, half the limit
    cfg = config.load(overrides=[
        "machine.n_cpus=1", "machine.tasks_per_cpu=1", "workload.think_ns=1e11",
        "reader.period_ns=1e12", "run.events=10000"])
    assert cfg["run"]["events"] == 10000
    config.load(overrides=["faults.sigma=2", "reader.bytes_per_ns=1e-6"])


@pytest.mark.parametrize("text, where", [
    (b"[costs]\nclock_read = nan\n", "costs.clock_read"),
    (b"[costs]\nclock_read = inf\n", "costs.clock_read"),
    (b"[costs]\nlocal_add = 1e300\n", "costs.local_add"),
    (b"[costs]\nlocal_add = true\n", "costs.local_add"),
    (b"[costs]\nwarp = 1\n", "costs.warp"),
    (b"costs = 3\n", "[costs]"),
    (b"[costs]\nclock_read = \xff\xfe 3\n", "not UTF-8"),
    (b"[costs\n", "invalid TOML"),
])
def test_bad_cost_profiles_name_file_key_and_range(tmp_path, text, where):
    prof = tmp_path / "prof.toml"
    prof.write_bytes(text)
    with pytest.raises(ConfigError) as exc:
        config.load(overrides=[f'costs.profile="{prof}"'])
    msg = str(exc.value)
    assert msg.startswith("costs.profile: ") and str(prof) in msg and where in msg


def test_numpy_scalars_are_accepted_where_python_numbers_are():
    np = pytest.importorskip("numpy")
    cfg = config.load({
        "run": {"events": np.int64(2000), "seed": np.uint16(7)},
        "machine": {"p_migrate": np.float32(0.25), "n_cpus": np.float64(2.0)},
        "reader": {"verify": np.bool_(False)},
        "faults": {"inject": [{"event": np.int32(5), "kind": "minor",
                               "delay_ns": np.int64(10)}]},
    })
    assert cfg == config.load({
        "run": {"events": 2000, "seed": 7},
        "machine": {"p_migrate": 0.25, "n_cpus": 2},
        "reader": {"verify": False},
        "faults": {"inject": [{"event": 5, "kind": "minor", "delay_ns": 10}]}})
    assert type(cfg["run"]["events"]) is int
    assert type(cfg["machine"]["p_migrate"]) is float
    config.to_json(cfg)                               # plain JSON types
    with pytest.raises(ConfigError, match="machine.n_cpus"):
        config.load({"machine": {"n_cpus": np.bool_(True)}})
    with pytest.raises(ConfigError, match="run.events"):
        config.load({"run": {"events": np.float32(1.5)}})
