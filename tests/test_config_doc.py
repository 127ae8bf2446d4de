"""``fastring config``, ``fastring strategies``, docs/config.md and the
strategy-language docs (issue #12, discoverability)."""
import re
import tomllib
from pathlib import Path

import pytest

from fastring.cli import commands as cli
from fastring import config as C
from fastring.config.doc import config_markdown, schema_keys
from fastring.config.help import MEANINGS
from fastring.model.strategies import BUILTIN

ROOT = Path(__file__).resolve().parent.parent


def test_every_schema_key_has_a_meaning():
    missing = [k for k, _ in schema_keys() if k not in MEANINGS]
    assert missing == [], f"add a line to fastring/config/help.py for: {missing}"


def test_docs_config_md_is_current():
    assert (ROOT / "docs" / "config.md").read_text(encoding="utf-8") == config_markdown(), \
        "docs/config.md is stale: python -m fastring.config_doc > docs/config.md"


OVERRIDES = [
    'workload.syscalls={read={weight=1, payload="buffer", len_median=300.0}}',
    'faults.inject=[{event=10, kind="major", delay_ns=5000}]',
    'strategies.mine.program=["preempt_off", "reserve", "copy_user_to_slot nofault", '
    '"commit_local", "preempt_on"]',
    'strategies.mine.description="a copy of nofault"',
    "costs.local_add=0.5", "buffer.mode=overwrite", "run.events=12345",
]


@pytest.mark.parametrize("overrides", [[], OVERRIDES])
def test_config_prints_commented_toml_that_loads_back(overrides, tmp_path, capsys):
    args = [a for o in overrides for a in ("--set", o)]
    assert cli.main(["config", *args]) == 0
    text = capsys.readouterr().out
    f = tmp_path / "c.toml"
    f.write_text(text)
    assert C.load(f) == C.load(None, overrides)
    for key, s in schema_keys():        # each key's meaning and range, commented
        if "NAME" not in key and "[]" not in key and C.SCHEMA.get(key) is None:
            assert MEANINGS[key] in text, key
    assert "#   default 65536; a power of two in [256, 1073741824]" in text
    assert "# clock_read = 20.0   (from the profile; uncomment to override)" in text


def test_config_file_and_bad_input(tmp_path, capsys):
    f = tmp_path / "in.toml"
    f.write_text("[buffer]\nsubbuf_size = 4096\n")
    assert cli.main(["config", "--config", str(f)]) == 0
    assert "\nsubbuf_size = 4096\n" in capsys.readouterr().out
    assert cli.main(["config", "--set", "buffer.subbuf_size=1000"]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and "buffer.subbuf_size" in cap.err and "power of two" in cap.err


def test_config_preset(tmp_path, capsys):
    tracer = C.SCHEMA.get("tracer")
    if not isinstance(tracer, dict) or "preset" not in tracer:
        assert cli.main(["config", "--preset", "lttng-ust"]) == 2
        cap = capsys.readouterr()
        assert cap.out == "" and "--preset lttng-ust" in cap.err
        return
    choices = tracer["preset"].choices
    assert cli.main(["config", "--preset", choices[-1]]) == 0
    f = tmp_path / "p.toml"
    f.write_text(capsys.readouterr().out)
    assert C.load(f)["tracer"]["preset"] == choices[-1]
    assert cli.main(["config", "--preset", "no-such-tracer"]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and "no-such-tracer" in cap.err


def test_strategies_lists_every_strategy_with_its_program(capsys):
    assert cli.main(["strategies"]) == 0
    out = capsys.readouterr().out
    for name, (description, program) in BUILTIN.items():
        assert f"{name} (built in)" in out
        block = out.split(f"{name} (built in)", 1)[1].split("\n\n", 1)[0]
        assert [line.strip() for line in block.splitlines()[-len(program):]] == program
        assert description.split()[0] in block


def test_strategies_with_a_config_and_bad_input(capsys):
    example = ROOT / "examples" / "prefetch_nofault.toml"
    assert cli.main(["strategies", "--config", str(example)]) == 0
    assert "prefetch_nofault (defined in the config)" in capsys.readouterr().out
    bad = 'strategies.bad.program=["preempt_off", "reserve", "copy_user_to_slot"]'
    assert cli.main(["strategies", "--set", bad]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and "strategies.bad.program" in cap.err


def test_the_worked_seventh_strategy_runs_as_documented(tmp_path, capsys):
    example = ROOT / "examples" / "prefetch_nofault.toml"
    doc = (ROOT / "docs" / "strategies.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", doc, re.S).group(1)
    assert tomllib.loads(block) == tomllib.loads(example.read_text())
    assert cli.main(["run", "--config", str(example), "--events", "3000",
                     "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^prefetch_nofault\s", out, re.M)
