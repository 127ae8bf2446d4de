"""Tests for the ``fastring`` command line (fastring.cli)."""
import io
import os
import subprocess
import sys
import types

import pyarrow.parquet as pq
import pytest

from fastring import cli

SMALL = ["--events", "2000", "--strategy", "nofault",
         "--strategy", "copy_then_commit"]
COLUMNS = ("events/s", "p50", "p99", "max", "full", "wrap", "big",
           "data_missing", "copy amp", "remote commits", "cpu ns/event")


def fastring(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fastring", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_run_end_to_end(tmp_path):
    out = tmp_path / "res"
    p = fastring("run", *SMALL, "--seed", "3", "--events-table",
                 "--set", "buffer.mode=overwrite", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""                 # no progress bar: not a terminal
    lines = p.stdout.splitlines()
    table = "\n".join(lines[:4])
    for col in COLUMNS:
        assert col in table
    assert "latency" in lines[0] and "lost" in lines[0]
    assert lines[2].startswith("nofault ") and lines[3].startswith("copy_then_commit ")
    assert "wrote runs.parquet, buffers.parquet, events.parquet to" in p.stdout
    assert str(out) in p.stdout
    assert sorted(os.listdir(out)) == ["buffers.parquet", "events.parquet",
                                       "runs.parquet"]
    runs = pq.read_table(out / "runs.parquet")
    assert runs["strategy"].to_pylist() == ["nofault", "copy_then_commit"]
    assert runs["run.seed"].to_pylist() == [3, 3]
    assert runs["buffer.mode"].to_pylist() == ["overwrite"] * 2
    assert runs["events"].to_pylist() == [2000, 2000]
    assert pq.ParquetFile(out / "events.parquet").metadata.num_rows == 4000
    assert pq.read_schema(out / "runs.parquet").metadata[b"fastring.seed"] == b"3"


def test_run_default_out_dir_and_config_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[run]\nevents = 1000\nstrategies = ["restart_on_fault"]\n'
                   '[buffer]\nsubbuf_size = 4096\n')
    p = fastring("run", "--config", str(cfg), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "restart_on_fault" in p.stdout
    runs = pq.read_table(tmp_path / "results" / "latest" / "runs.parquet")
    assert runs["buffer.subbuf_size"].to_pylist() == [4096]
    assert not (tmp_path / "results" / "latest" / "events.parquet").exists()


BAD = [
    (["--set", "nosuch.key=1"], "nosuch", "known sections"),
    (["--set", "machine.nosuch=1"], "machine.nosuch", "known keys"),
    (["--set", "machine.n_cpus=four"], "machine.n_cpus", "an integer"),
    (["--set", "buffer.subbuf_size=1000"], "buffer.subbuf_size", "power of two"),
    (["--set", "faults.p_major=1.5"], "faults.p_major", "[0, 1]"),
    (["--set", "faults.p_minor=-0.1"], "faults.p_minor", "[0, 1]"),
    (["--set", "machine.timeslice_ns=-5"], "machine.timeslice_ns", "[1, "),
    (["--set", "workload.think_ns=-1"], "workload.think_ns", "[0,"),
    (["--strategy", "nosuch"], "nosuch", "copy_then_commit_atomic"),
    (["--set", "buffer.mode"], "buffer.mode", "SECTION.KEY=VALUE"),
    (["--set", "=3"], "=3", "SECTION.KEY=VALUE"),
    (["--config", "MISSING.toml"], "MISSING.toml", "cannot read"),
    (["--config", "BAD.toml"], "BAD.toml", "invalid TOML"),
    (["--set", 'strategies.mine.program=["reserve", "jump nowhere"]',
      "--strategy", "mine"], "strategies.mine", ""),
]


@pytest.mark.parametrize("args,key,allowed", BAD, ids=[" ".join(b[0])[:40] for b in BAD])
def test_bad_input_exit_2_and_no_output(args, key, allowed, tmp_path, capsys):
    (tmp_path / "BAD.toml").write_text("[run\nevents = ")
    args = [a.replace("MISSING.toml", str(tmp_path / "MISSING.toml"))
            .replace("BAD.toml", str(tmp_path / "BAD.toml")) for a in args]
    out = tmp_path / "new" / "out"
    rc = cli.main(["run", "--events", "100", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert not (tmp_path / "new").exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastring: error: ")
    assert key in lines[0] and allowed in lines[0]


def test_bad_input_in_subprocess(tmp_path):
    out = tmp_path / "out"
    p = fastring("run", "--strategy", "bogus", "--out", str(out))
    assert p.returncode == 2
    assert "run.strategies[0]: unknown strategy 'bogus'; known: nofault" in p.stderr
    assert "Traceback" not in p.stderr
    assert not out.exists()
    p = fastring("run", "--events", "lots", "--out", str(out))   # argparse
    assert p.returncode == 2 and "--events" in p.stderr and not out.exists()


def test_internal_error_exit_1(tmp_path, capsys, monkeypatch):
    import fastring.api

    def broken(*a, **kw):
        raise RuntimeError("kaboom")
    monkeypatch.setattr(fastring.api, "run", broken)
    out = tmp_path / "out"
    assert cli.main(["run", *SMALL, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaboom" in err
    assert "--debug" in err and "Traceback" not in err
    assert not out.exists()
    # an existing directory and its files survive
    out.mkdir()
    (out / "runs.parquet").write_text("old")
    assert cli.main(["run", *SMALL, "--out", str(out), "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "kaboom" in err
    assert os.listdir(out) == ["runs.parquet"]
    assert (out / "runs.parquet").read_text() == "old"


def test_interrupt_exit_130(tmp_path, capsys, monkeypatch):
    import fastring.api

    def interrupted(*a, **kw):
        raise KeyboardInterrupt
    monkeypatch.setattr(fastring.api, "run", interrupted)
    assert cli.main(["run", *SMALL, "--out", str(tmp_path / "o")]) == 130
    assert not (tmp_path / "o").exists()


def test_help_documents_every_option(capsys):
    assert cli.main(["--help"]) == 0
    text = capsys.readouterr().out
    for word in ("run", "report", "sweep", "calibrate", "--debug", "--version"):
        assert word in text
    assert cli.main(["run", "--help"]) == 0
    text = capsys.readouterr().out
    for opt in ("--config", "--set", "--strategy", "--events", "--seed",
                "--out", "--events-table", "--debug", "results/latest"):
        assert opt in text
    assert cli.main(["report", "--help"]) == 0
    assert "--out" in capsys.readouterr().out
    assert cli.main([]) == 2


def test_help_subprocess():
    p = fastring("--help")
    assert p.returncode == 0 and "COMMAND" in p.stdout and "run" in p.stdout


def test_dispatch_sweep_and_calibrate(monkeypatch):
    seen = {}

    def fake_main(name, rc):
        def main(argv=None):
            seen[name] = argv
            return rc
        return main
    fake = types.ModuleType("fastring.sweep")
    fake.main = fake_main("sweep", 0)
    monkeypatch.setitem(sys.modules, "fastring.sweep", fake)
    assert cli.main(["sweep", "grid.toml", "--workers", "2"]) == 0
    assert seen["sweep"] == ["grid.toml", "--workers", "2"]
    import fastring.calibrate
    monkeypatch.setattr(fastring.calibrate, "main", fake_main("calibrate", 1))
    assert cli.main(["calibrate", "--quick"]) == 1
    assert seen["calibrate"] == ["--quick"]

    def exits(argv=None):
        raise SystemExit(2)
    fake.main = exits
    assert cli.main(["sweep", "--bad"]) == 2


def test_dispatch_missing_module(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "fastring.sweep", None)
    assert cli.main(["sweep", "x"]) == 1
    assert "sweep" in capsys.readouterr().err


def test_progress_bar():
    class Tty(io.StringIO):
        def isatty(self):
            return True
    tty = Tty()
    bar = cli.ProgressBar(["a", "b"], 1000, stream=tty, delay=0.0)
    bar("a", 500, 1000)
    bar("b", 1000, 1000)
    text = tty.getvalue()
    assert "\r" in text and "b (2/2)" in text and "100%" in text
    bar.close()
    assert tty.getvalue().endswith("\r\033[K")
    quiet = Tty()
    slow = cli.ProgressBar(["a"], 10, stream=quiet, delay=60.0)
    slow("a", 5, 10)                        # not shown before the delay
    assert quiet.getvalue() == ""
    pipe = io.StringIO()
    off = cli.ProgressBar(["a"], 10, stream=pipe, delay=0.0)
    off("a", 5, 10)                         # not a terminal
    assert pipe.getvalue() == ""
