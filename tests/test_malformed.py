"""Malformed configs and cost profiles through the CLI (issue 17, item 7):
exit status 2, one message naming the key, nothing written.

The malformed values are derived from :data:`fastring.config.SCHEMA`: for
every key, a value of the wrong type and values just outside its range (and
off its power-of-two / multiple-of grid), so keys added later are covered;
the cost profiles break every rule a profile has.
"""
import math

import pytest

from fastring import _toml
from fastring.cli import commands as cli
from fastring.world import costs
from fastring.config import SCHEMA, Key


def bad_values(k: Key) -> list:
    """Values that ``k`` must refuse on their own."""
    t = k.type
    if t in ("int", "float"):
        out = ["abc", True, [1]]
        if k.lo is not None:
            out.append(k.lo if k.lo_open else k.lo - 1)
        if k.hi is not None:
            out.append(k.hi * 2 + 1)
        if t == "int":
            out.append((k.lo if k.lo is not None else 0) + 1.5)
            if k.pow2:
                out.append(int(k.lo) * 2 + 1)
            if k.multiple_of > 1:
                out.append(int(k.lo) + 1)
        else:
            out += [math.nan, math.inf, -math.inf]
        return out
    return {"bool": ["maybe", 2], "str": [3, [1]], "choice": ["nosuch", 3],
            "names": [[], [1], 3], "program": [[], 3],
            "table": [3, "x"], "records": [3, "x"]}.get(t, [])


CASES = []
for sec, spec in SCHEMA.items():
    if isinstance(spec, Key):
        CASES += [(sec, v) for v in bad_values(spec)]
        continue
    CASES.append((f"{sec}.no_such_key", 1))
    for key, k in spec.items():
        CASES += [(f"{sec}.{key}", v) for v in bad_values(k)]
CASES.append(("no_such_section.key", 1))


def run_cli(tmp_path, capsys, *args):
    out = tmp_path / "new" / "out"
    rc = cli.main(["run", "--set", "run.events=100", "--no-progress", *args,
                   "--out", str(out)])
    err = capsys.readouterr().err
    assert not (tmp_path / "new").exists(), "something was written"
    return rc, err


@pytest.mark.parametrize("path, bad", CASES, ids=[f"{p}={v!r}" for p, v in CASES])
def test_malformed_key_exit_2_names_it(path, bad, tmp_path, capsys):
    rc, err = run_cli(tmp_path, capsys, "--set", f"{path}={_toml.value(bad)}")
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastring: error: "), err
    named = "no_such_section" if path.startswith("no_such_section") else path
    assert f"error: {named}" in lines[0], err


def test_malformed_in_a_config_file(tmp_path, capsys):
    """The same checks reading TOML: nan and inf as TOML floats."""
    cfg = tmp_path / "c.toml"
    cfg.write_text("[faults]\np_minor = nan\n")
    rc, err = run_cli(tmp_path, capsys, "--config", str(cfg))
    assert rc == 2 and "faults.p_minor" in err
    cfg.write_text("[reader]\nbytes_per_ns = 1e-300\n")
    rc, err = run_cli(tmp_path, capsys, "--config", str(cfg))
    assert rc == 2 and "reader.bytes_per_ns" in err and "must be >" in err
    cfg.write_bytes(b"[run]\nevents = 1\n# \xff\xfe\n")
    rc, err = run_cli(tmp_path, capsys, "--config", str(cfg))
    assert rc == 2 and str(cfg) in err


PROFILES = [
    *[(f"[costs]\n{k} = {v}\n".encode(), f"costs.{k}")
      for k in costs.COST_KEYS[:3]
      for v in ("nan", "inf", "-inf", "-1", "1e300", '"x"', "true", "[1]")],
    (b"[costs]\nno_such_cost = 1\n", "costs.no_such_cost"),
    (b"costs = 3\n", "[costs]"),
    (b"[costs]\nclock_read = 1\n\xff\n", "not UTF-8"),
    (b"[costs\n", "invalid TOML"),
]


@pytest.mark.parametrize("text, where", PROFILES, ids=[w + " " + t.decode(errors="replace")[8:30]
                                                       for t, w in PROFILES])
def test_malformed_profile_exit_2_names_file_and_key(text, where, tmp_path, capsys):
    prof = tmp_path / "prof.toml"
    prof.write_bytes(text)
    rc, err = run_cli(tmp_path, capsys, "--set", f"costs.profile={_toml.value(str(prof))}")
    assert rc == 2, err
    assert "costs.profile" in err and str(prof) in err and where in err, err
    assert "internal error" not in err
