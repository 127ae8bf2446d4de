"""Tracer presets: documented values with their sources, layered under the
user's keys (defaults < preset < source < overrides)."""
from __future__ import annotations

from pathlib import Path

import pytest

from fastring import config as C
from fastring.world import presets as P
from fastring.world.capture import DEFAULT_MAX

DOCS = Path(__file__).resolve().parent.parent / "docs" / "model.md"


def test_every_value_has_a_source_and_the_docs_show_them():
    for name, secs in P.PRESETS.items():
        keys = {f"{s}.{k}" for s, ks in secs.items() for k in ks}
        assert keys == set(P.SOURCES[name]), name
        for key in keys:
            sec, k = key.split(".")
            assert k in C.SCHEMA[sec], key           # a real config key
    assert P.markdown_table() in DOCS.read_text()


@pytest.mark.parametrize("name", [n for n in P.NAMES if n != "none"])
def test_a_preset_sets_its_values(name):
    cfg = C.load({"tracer": {"preset": name}})
    for sec, keys in P.PRESETS[name].items():
        for k, v in keys.items():
            assert cfg[sec][k] == v, (sec, k)
    assert cfg["workload"]["capture_max"] == DEFAULT_MAX[cfg["workload"]["capture"]]


def test_none_is_the_schema_defaults():
    cfg = C.load({"tracer": {"preset": "none"}})
    for sec in ("buffer", "reader"):
        for k, key in C.SCHEMA[sec].items():
            assert cfg[sec][k] == key.default
    assert cfg["workload"]["capture"] == "full"


def test_user_keys_win_over_the_preset():
    src = {"tracer": {"preset": "ftrace"}, "buffer": {"n_subbuf": 8},
           "workload": {"capture_max": 100}}
    cfg = C.load(src, ["reader.period_ns=5000", "buffer={mode='discard'}"])
    assert cfg["buffer"]["n_subbuf"] == 8               # source
    assert cfg["buffer"]["subbuf_size"] == 4096         # preset
    assert cfg["buffer"]["mode"] == "discard"           # a whole-section override
    assert cfg["reader"]["period_ns"] == 5000           # override
    assert cfg["workload"]["capture"] == "ftrace"       # preset
    assert cfg["workload"]["capture_max"] == 100        # source, not the policy's 63
    # the preset chosen by an override applies too
    cfg = C.load(None, ["tracer.preset=lttng-ust"])
    assert cfg["buffer"]["subbuf_size"] == 1 << 19
    # a loaded config loads as itself
    assert C.load(cfg) == cfg


def test_capture_max_follows_the_policy_unless_set():
    assert C.load(None, ["workload.capture=ftrace"])["workload"]["capture_max"] == 63
    assert C.load(None, ["workload.capture=ftrace",
                         "workload.capture_max=165"])["workload"]["capture_max"] == 165
    loaded = C.load(None, ["workload.capture_max=200"])
    assert C.load(loaded, ["buffer.n_subbuf=8"])["workload"]["capture_max"] == 200


def test_unknown_preset_is_an_error():
    with pytest.raises(C.ConfigError, match="tracer.preset: must be one of"):
        C.load(None, ["tracer.preset=perf"])


def test_the_pinning_grid_is_valid():
    from fastring import sweep as SW
    grid = SW.load_grid(DOCS.parent.parent / "examples" / "pinning_grid.toml")
    assert grid.invalid_cells == [] and len(grid.cells) == 64
    cfg = grid.cells[0].config
    assert cfg["tracer"]["preset"] == "lttng-modules" and cfg["buffer"]["n_subbuf"] == 4
    assert cfg["reader"]["period_ns"] == 1_000_000
