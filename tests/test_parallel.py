"""Strategies in parallel processes (``fastring.run(jobs=N)``, ``fastring
run --jobs N``): the same tables as one after another, progress reported,
Ctrl-C stops every worker."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fastring
from fastring import config as C

SMALL = ["run.events=3000", "machine.n_cpus=2", "faults.p_major=0.001",
         'run.strategies=["nofault", "copy_then_commit", "restart_on_fault"]']
CLOCK = ("wall_s", "events_per_s")


def _tables(res):
    return (res.runs.drop(list(CLOCK)).to_pydict(), res.buffers.to_pydict(),
            res.events.to_pydict(), res.runs.schema.metadata)


def test_parallel_tables_equal_sequential_bit_for_bit():
    seen = []
    par = fastring.run(None, overrides=SMALL, events_table=True, jobs=2,
                       progress=lambda *a: seen.append(a))
    seq = fastring.run(None, overrides=SMALL, events_table=True, jobs=1)
    assert _tables(par) == _tables(seq)
    assert par.runs.column("strategy").to_pylist() == ["nofault", "copy_then_commit",
                                                       "restart_on_fault"]
    # every strategy's progress reached the parent, up to its last event
    assert {(s, d) for s, d, _ in seen if d == 3000} == {
        (s, 3000) for s in ("nofault", "copy_then_commit", "restart_on_fault")}


def test_jobs_must_be_positive():
    with pytest.raises(C.ConfigError, match="jobs"):
        fastring.run(None, overrides=SMALL, jobs=0)


def _children(pid):
    """Processes whose parent is ``pid``."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc")
def test_ctrl_c_stops_the_workers(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastring", "run", "--jobs", "2", "--no-progress",
         "--events", "1e8", "--out", str(tmp_path / "out"),
         "--strategy", "nofault", "--strategy", "copy_then_commit"],
        cwd=tmp_path, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)                         # the workers (and spawn's tracker)
    workers = _children(proc.pid)
    assert workers, "no worker process started"
    time.sleep(3)                               # let them load and run
    os.killpg(proc.pid, signal.SIGINT)          # what a terminal's Ctrl-C does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    time.sleep(0.5)
    assert not [w for w in workers if Path(f"/proc/{w}").exists()
                and "Z" not in (Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[:1])]
    assert not (tmp_path / "out" / "runs.parquet").exists()    # nothing half-written
