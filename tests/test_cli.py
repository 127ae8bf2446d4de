"""Tests for the ``fastring`` command line (fastring.cli.commands)."""
import dataclasses
import io
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from fastring.cli import commands as cli
from fastring.io.progress import ProgressBar, fmt_duration

SMALL = ["--events", "2000", "--strategy", "nofault",
         "--strategy", "copy_then_commit"]
COLUMNS = ("tracer", "ns/event", "latency", "p99", "max", "preempt-off", "pin",
           "lost", "data", "missing")


def fastring(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fastring", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_run_end_to_end(tmp_path):
    out = tmp_path / "res"
    p = fastring("run", *SMALL, "--seed", "3", "--events-table",
                 "--set", "buffer.mode=overwrite", "--out", str(out))
    assert p.returncode == 0, p.stderr
    # no progress bar (not a terminal); at most the note of a first run
    assert p.stderr in ("", ) or p.stderr.startswith("compiling kernels (first run only")
    lines = p.stdout.splitlines()
    table = "\n".join(lines[:4])
    for col in COLUMNS:
        assert col in table
    assert "events/s" not in table        # the simulator's speed: in the footer
    assert lines[0].split()[0] == "tracer" and "latency" in lines[0]
    assert lines[1].split()[:2] == ["strategy", "ns/event"]
    assert lines[2].startswith("nofault ") and lines[3].startswith("copy_then_commit ")
    assert all(len(line) <= 100 for line in lines[:4])
    assert "Verdict" in p.stdout and "Pareto front" in p.stdout
    footer = lines[-1]
    assert footer.startswith("simulator: 2 strategies x 2000 events")
    assert "events/s simulated, not a tracer figure" in footer
    assert "wrote runs.parquet, buffers.parquet, events.parquet to" in footer
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
    (["--set", "buffer.payload=none"], "buffer.payload", "'bytes', 'sizes'"),
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
    (["--set", "run.events=5"], "--set run.events=5", "give one of them"),
    (["--seed", "2", "--set", "run.seed=3"], "run.seed", "give one of them"),
    (["--format", "xml"], "'xml'", "table, csv, json, markdown"),
    (["--columns", "latency_p99_ns,bogus"], "'bogus'", "pin_max_ns"),
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


def test_every_command_reaches_its_handler_through_the_one_tree(monkeypatch):
    seen = {}

    def fake(command):
        def handler(args):
            seen[command.name] = args
            return 7
        return dataclasses.replace(command, handler=handler)
    monkeypatch.setattr(cli, "COMMANDS", tuple(fake(c) for c in cli.COMMANDS))
    assert cli.main(["sweep", "grid.toml", "--workers", "2"]) == 7
    assert seen["sweep"].grid == "grid.toml" and seen["sweep"].workers == 2
    assert cli.main(["--debug", "calibrate", "--quick"]) == 7
    assert seen["calibrate"].quick and seen["calibrate"].debug
    assert cli.main(["fit", "t.strace", "--cpus", "3"]) == 7 and seen["fit"].cpus == 3
    assert cli.main(["sweep", "--bad"]) == 2          # argparse: bad input
    assert cli.main(["nosuch"]) == 2


@pytest.mark.parametrize("command", ["sweep", "calibrate"])
def test_python_m_package_is_the_same_command(command):
    """``python -m fastring.sweep`` is ``fastring sweep``: the same tree."""
    own = subprocess.run([sys.executable, "-m", f"fastring.{command}", "--help"],
                         capture_output=True, text=True, timeout=300)
    assert own.returncode == 0, own.stderr
    assert own.stdout == fastring(command, "--help").stdout
    assert own.stdout.startswith(f"usage: fastring {command} ")
    bad = subprocess.run([sys.executable, "-m", f"fastring.{command}", "--nosuch"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and f"fastring {command}: error: " in bad.stderr


def test_dispatch_missing_module(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "fastring.sweep", None)
    assert cli.main(["sweep", "x"]) == 1
    assert "sweep" in capsys.readouterr().err


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar():
    tty = Tty()
    bar = ProgressBar(["a", "b"], 1000, stream=tty, delay=0.0)
    bar("a", 500, 1000)
    bar("a", 1000, 1000)
    bar("b", 1000, 1000)
    text = tty.getvalue()
    assert "\r" in text and "b (2/2)" in text and "100%" in text
    bar.close()
    assert tty.getvalue().endswith("\r\033[K")
    quiet = Tty()
    slow = ProgressBar(["a"], 10, stream=quiet, delay=60.0)
    slow("a", 5, 10)                        # not shown before the delay
    assert quiet.getvalue() == ""
    pipe = io.StringIO()
    off = ProgressBar(["a"], 10, stream=pipe, delay=0.0)
    off("a", 5, 10)                         # not a terminal
    assert pipe.getvalue() == ""


def test_progress_of_strategies_run_side_by_side():
    """With --jobs the strategies' updates interleave: the bar shows the share
    of all events done, which only grows, whatever order they come in."""
    bar = ProgressBar(["a", "b", "c"], 1000, stream=Tty(), delay=0.0)
    seen = [bar.fraction(s, d, 1000) for s, d in
            (("b", 100), ("a", 300), ("c", 200), ("b", 900), ("a", 1000),
             ("c", 1000), ("b", 1000))]
    assert seen == sorted(seen) and seen[0] == pytest.approx(0.1 / 3)
    assert seen[-1] == 1.0 and seen[4] == pytest.approx((1000 + 900 + 200) / 3000)


def test_progress_eta_is_sane_from_the_first_update():
    """The kernels compile before the bar starts (progress.warm_up), and the
    ETA comes from the rate since the first update: a slow start (loading,
    the first chunk) does not inflate it."""
    now = [100.0]
    bar = ProgressBar(["a", "b"], 1000, stream=Tty(), delay=0.0, clock=lambda: now[0])
    now[0] = 101.0                            # 1 s in, 10% done: 9 s left
    assert bar.eta(now[0], bar.fraction("a", 200, 1000)) == pytest.approx(9.0)
    bar("a", 200, 1000)
    now[0] = 130.0                            # a slow spell is forgotten once
    bar("a", 400, 1000)                       # the rate since then is known
    now[0] = 131.0
    assert bar.eta(now[0], bar.fraction("a", 600, 1000)) == pytest.approx(
        30.0 * 0.7 / 0.2)
    assert fmt_duration(7.4) == "7s" and fmt_duration(185) == "3m05s"
    assert fmt_duration(3720) == "1h02m" and fmt_duration(float("nan")) == "?"


@pytest.mark.parametrize("cols", range(4, 120))
def test_progress_line_never_cuts_a_number(cols):
    bar = ProgressBar(["copy_then_commit_atomic", "b"], 1_000_000, stream=Tty(),
                      delay=0.0, clock=lambda: 1000.0)
    bar.t0 = 900.0
    full = bar.line("copy_then_commit_atomic", 123_456, 1_000_000, 1000.0, 1000)
    line = bar.line("copy_then_commit_atomic", 123_456, 1_000_000, 1000.0, cols)
    assert len(line) <= max(cols - 1, 4)
    words = lambda text: {w.strip(",") for w in text.split()}   # noqa: E731
    assert words(line) <= words(full)                  # whole words only
    assert "%" in line


def test_first_run_says_it_compiles(tmp_path, capsys, monkeypatch):
    from fastring import kernel_cache
    monkeypatch.setattr(kernel_cache, "is_cold", lambda: True)
    monkeypatch.setattr(kernel_cache, "record_compile_s", lambda s: None)
    monkeypatch.setattr(kernel_cache, "expected_compile_s", lambda: 42)
    assert cli.main(["run", *SMALL, "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("compiling kernels (first run only, about 42 s)\n")


def test_kernel_cache_is_warm_after_a_run(tmp_path):
    from fastring import kernel_cache
    assert cli.main(["run", *SMALL, "--out", str(tmp_path / "o")]) == 0
    if os.environ.get("NUMBA_DISABLE_JIT", "0") == "0":
        assert kernel_cache.is_cold() is False
    kernel_cache.record_compile_s(12.3)
    assert kernel_cache.expected_compile_s() == 12


def test_default_kernel_cache_is_per_version(monkeypatch, tmp_path):
    """An upgrade at the same install path must not read the old version's
    index files (numba unpickles them before comparing source stamps; a type
    whose module moved made that an AttributeError, not a cache miss)."""
    import fastring
    from fastring import kernel_cache
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "name", "posix")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert kernel_cache.user_cache_dir() == tmp_path / "fastring" / "numba" / fastring.__version__


# ------------------------------------------------------------ output formats

@pytest.mark.parametrize("fmt", ["csv", "json", "markdown"])
def test_run_formats(fmt, tmp_path):
    import csv
    import json
    p = fastring("run", *SMALL, "--format", fmt, "--columns",
                 "latency_max_ns,pin_max_ns", "--columns", "lost,restarts",
                 "--out", str(tmp_path / "o"))
    assert p.returncode == 0, p.stderr
    runs = pq.read_table(tmp_path / "o" / "runs.parquet").to_pylist()
    keys = ["strategy", "latency_max_ns", "pin_max_ns", "lost", "restarts"]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        assert list(rows[0]) == keys
        assert float(rows[1]["pin_max_ns"]) == runs[1]["pin_max_ns"]
        assert "simulator:" in p.stderr and "simulator:" not in p.stdout
    elif fmt == "json":
        rows = json.loads(p.stdout)
        assert [list(r) for r in rows] == [keys, keys]
        assert rows[0]["latency_max_ns"] == runs[0]["latency_max_ns"]
        assert rows[1]["lost"] == runs[1]["lost_full"] + runs[1]["lost_wrap"] + runs[1]["lost_big"]
    else:
        lines = p.stdout.splitlines()
        assert lines[0] == "| strategy | latency max | pin max | lost | restarts |"
        assert lines[1] == "|:---|---:|---:|---:|---:|"


def test_default_table_fits_100_columns_with_extreme_values():
    from fastring.report import render
    row = {"strategy": "copy_then_commit_atomic", "cpu_ns_per_event": 123456.7,
           "latency_p99_ns": 1.23e12, "latency_max_ns": 9.99e14,
           "preempt_off_max_ns": 123.456e9, "pin_p99_ns": 1.5e9, "pin_max_ns": 9.87e13,
           "lost_full": 10**15, "lost_wrap": 0, "lost_big": 0, "data_missing": 9.99e14,
           "events": 10**15}
    text = render([row, {**row, "strategy": "nofault"}], micro="µ")
    assert max(len(line) for line in text.splitlines()) <= 100, text
