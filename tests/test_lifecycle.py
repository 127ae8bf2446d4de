"""Nothing lost, nothing left behind (issue #12): an unwritable output
directory is refused before the run, SIGTERM unwinds like Ctrl-C, a killed
run's temporary files are removed by the next run, and re-running a finished
sweep (the README's command on the committed results) writes nothing."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fastring.cli import commands as cli
from fastring.io.results import TEMP_NAME, remove_stale_temps

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--events", "2000", "--strategy", "nofault"]


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_unwritable_output_dir_refused_before_the_run(tmp_path, capsys, monkeypatch):
    import fastring.api
    ran = []
    monkeypatch.setattr(fastring.api, "run", lambda *a, **k: ran.append(1))
    # /proc exists and is a directory nobody, not even root, can create files in
    assert cli.main(["run", *SMALL, "--out", "/proc"]) == 2
    err = capsys.readouterr().err
    assert "output directory '/proc': cannot write there" in err
    (tmp_path / "file").write_text("x")
    assert cli.main(["run", *SMALL, "--out", str(tmp_path / "file" / "sub")]) == 2
    assert "cannot create it" in capsys.readouterr().err
    assert ran == []                              # refused before any run


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only dirs")
def test_read_only_dir_refused(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    assert cli.main(["run", *SMALL, "--out", str(ro)]) == 2
    assert "cannot write there" in capsys.readouterr().err
    assert os.listdir(ro) == []


def test_stale_temp_files_removed_by_the_next_run(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    dead = _dead_pid()
    stale = [out / f".runs.parquet.{dead}.0123abcd.tmp", out / f".events.parquet.{dead}.tmp"]
    live = out / f".runs.parquet.{os.getppid()}.89abcdef.tmp"   # a run still going
    other = out / ".notes.tmp"                                  # not ours
    for p in [*stale, live, other]:
        p.write_text("x")
    assert all(TEMP_NAME.fullmatch(p.name) for p in [*stale, live])
    assert cli.main(["run", *SMALL, "--out", str(out)]) == 0
    assert not any(p.exists() for p in stale)
    assert live.exists() and other.exists()
    sub = tmp_path / "sweep" / "runs" / "strategy=x"
    sub.mkdir(parents=True)
    (sub / f".cell-1.parquet.{dead}.tmp").write_text("x")
    assert remove_stale_temps(tmp_path / "sweep", recursive=True) == [
        sub / f".cell-1.parquet.{dead}.tmp"]


def _wait_for(pred, timeout=120):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_sigterm_during_run_leaves_nothing(tmp_path):
    out = tmp_path / "o"
    p = subprocess.Popen([sys.executable, "-m", "fastring", "run", "--events",
                          "50000000", "--events-table", "--no-progress",
                          "--out", str(out)], env=_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: out.is_dir() and any(out.glob(".events*.tmp"))), \
            "the run never started writing"
        time.sleep(0.3)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == 143, err
    assert "fastring: error: terminated" in err and "Traceback" not in err
    assert not out.exists()           # the run created it: removed with its temp files


GRID = """[run]
events = 3000000
strategies = ["nofault", "copy_then_commit"]
[axes]
"faults.p_major" = [1e-5, 1e-4, 1e-3, 1e-2]
"""


def test_sigterm_during_sweep_leaks_nothing(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID)
    out = tmp_path / "sw"
    p = subprocess.Popen([sys.executable, "-m", "fastring", "sweep", str(grid),
                          "--workers", "2", "--no-progress", "--out", str(out)],
                         env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        assert _wait_for(lambda: (out / "manifest.json").is_file())
        time.sleep(3)                        # the workers are running cells
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=120)
    finally:
        p.kill()
    assert p.returncode == 143, err
    assert "leaked" not in err and "Traceback" not in err, err
    assert "run the same command again to resume" in err
    assert not list(out.rglob("*.tmp"))


def test_readme_sweep_command_modifies_no_committed_file(tmp_path):
    """`fastring sweep examples/fault_rate_grid.toml --out results/sweep`
    (README) on the committed, finished sweep: nothing to do, nothing written."""
    shutil.copytree(ROOT / "results" / "sweep", tmp_path / "results" / "sweep")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns)
              for p in (tmp_path / "results").rglob("*") if p.is_file()}
    r = subprocess.run([sys.executable, "-m", "fastring", "sweep",
                        "examples/fault_rate_grid.toml", "--out", "results/sweep"],
                       cwd=tmp_path, env=_env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "0 computed, 18 done before" in r.stderr
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns)
             for p in (tmp_path / "results").rglob("*") if p.is_file()}
    assert after == before
