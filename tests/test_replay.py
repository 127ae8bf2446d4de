"""Replaying an strace capture: tasks, kinds, think times and payloads come
from the capture; the compiled engine matches the reference event for event;
bad captures are exit-2 errors before anything is written."""
from __future__ import annotations

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fastring import api
from fastring import config as C
from fastring.world.capture import DEFAULT_MAX, POLICIES
from fastring.reference.engine import simulate
from fastring.world.strace import parse

# two pids; pid 11 starts 1 ms in; a 9 KiB read, a 5000-byte write, paths
TRACE = r'''10 00:00:00.000000 openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3 <0.000010>
10 00:00:00.000100 read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 9216) = 9216 <0.000010>
11 00:00:00.001000 execve("/bin/ls", ["ls", "-l"], 0x7ffd /* 3 vars */) = 0 <0.000100>
10 00:00:00.001200 write(1, "total 0\n"..., 5000) = 5000 <0.000010>
11 00:00:00.001300 newfstatat(AT_FDCWD, "/tmp", {st_mode=S_IFDIR|0755, ...}, 0) = 0 <0.000010>
10 00:00:00.001500 close(3) = 0 <0.000010>
11 00:00:00.002000 read(4, 0x7ffd, 4096) = -1 EAGAIN (Resource temporarily unavailable) <0.000010>
11 00:00:00.002500 exit_group(0) = ?
11 00:00:00.002600 +++ exited with 0 +++
'''
CHILD_ENV = {**os.environ, "PYTHONPATH": os.getcwd()}
NO_JIT = bool(numba.config.DISABLE_JIT)


@pytest.fixture
def trace(tmp_path):
    p = tmp_path / "cap.strace"
    p.write_text(TRACE)
    return str(p)


def _cfg(trace, **workload):
    return C.load({"workload": {"source": "trace", "trace": trace, **workload},
                   "machine": {"n_cpus": 2},
                   "run": {"strategies": ["copy_then_commit"]}})


def _events(cfg):
    res = api.run(cfg, events_table=True)
    return res, res.events.to_pydict()


@pytest.mark.parametrize("loops", [1, 3])
def test_replay_follows_the_capture(trace, loops):
    cfg = _cfg(trace, capture="full", trace_loops=loops)
    assert cfg["run"]["events"] == 8 * loops
    res, ev = _events(cfg)
    assert res.runs.column("events").to_pylist() == [8 * loops]
    by_task = {}
    for task, name, start in zip(ev["task"], ev["syscall"], ev["start_ns"]):
        by_task.setdefault(task, []).append((start, name))
    seq = {t: [n for _, n in sorted(v)] for t, v in by_task.items()}
    assert seq[0] == ["openat", "read", "write", "close"] * loops
    assert seq[1] == ["execve", "newfstatat", "read", "exit_group"] * loops
    # think times are the capture's entry-to-entry gaps: pid 11's first
    # syscall waits its 1 ms offset, its second 300 us after the first ended
    starts = sorted(s for t, s in zip(ev["task"], ev["start_ns"]) if t == 1)
    assert 1_000_000 <= starts[0] < 1_000_000 + 5_000
    assert ev["kind"] == ev["syscall"]


@pytest.mark.parametrize("policy, cap_max, want", [
    # openat, read 9216, execve, write 5000, newfstatat, close, failed read, exit
    ("full", None, {"openat": 12, "read": 4096, "execve": 8 + 3 + 3,
                    "write": 4096, "newfstatat": 5}),
    ("strings", None, {"openat": 12, "read": 0, "execve": 14, "write": 0}),
    ("ftrace", None, {"openat": 12, "read": 0, "execve": 14, "write": 63}),
    ("ftrace", 100, {"write": 100, "read": 0}),
])
def test_capture_policies_set_payload_lengths(trace, policy, cap_max, want):
    extra = {} if cap_max is None else {"capture_max": cap_max}
    cfg = _cfg(trace, capture=policy, **extra)
    assert cfg["workload"]["capture_max"] == (cap_max or DEFAULT_MAX[policy])
    _, ev = _events(cfg)
    got = {}
    for name, n in zip(ev["syscall"], ev["payload_len"]):
        got[name] = max(got.get(name, 0), n)
    for name, n in want.items():
        assert got[name] == n, (name, got)
    assert got["close"] == 0 and got["exit_group"] == 0


@pytest.mark.parametrize("strategy", ["copy_then_commit", "restart_on_fault",
                                      "percpu_retry"])
def test_replay_matches_the_reference(trace, strategy):
    cfg = C.load({"workload": {"source": "trace", "trace": trace, "trace_loops": 5,
                               "capture": "full"},
                  "machine": {"n_cpus": 2, "p_migrate": 0.3},
                  "buffer": {"subbuf_size": 8192, "n_subbuf": 2},
                  "reader": {"period_ns": 20_000},
                  "faults": {"p_minor": 0.05, "p_major": 0.05},
                  "run": {"strategies": [strategy]}})
    ref = simulate(cfg, strategy)
    sim = api.Simulation(cfg, strategy, events_table=True)
    rows = []
    while not sim.done:
        rows.append(sim.advance())
    rows = np.concatenate(rows)
    assert rows.tolist() == [list(r) for r in ref.rows]
    assert int(sim.state.g[sim.state.g.size - 1]) >= 0


def test_replay_of_a_real_capture_matches_the_reference():
    from fastring.data import capture_path
    cfg = C.load({"workload": {"source": "trace", "trace": capture_path("ls"),
                               "capture": "ftrace"},
                  "faults": {"p_minor": 0.01, "p_major": 0.01},
                  "run": {"strategies": ["copy_then_commit"]}})
    ref = simulate(cfg, "copy_then_commit")
    sim = api.Simulation(cfg, "copy_then_commit", events_table=True)
    rows = []
    while not sim.done:
        rows.append(sim.advance())
    assert np.concatenate(rows).tolist() == [list(r) for r in ref.rows]


@pytest.mark.parametrize("key", ["run.events=10", "machine.tasks_per_cpu=2",
                                 "workload.syscalls={read={weight=1}}"])
def test_keys_the_capture_sets_are_errors(trace, key):
    with pytest.raises(C.ConfigError, match=key.split("=")[0]):
        C.load({"workload": {"source": "trace", "trace": trace}}, [key])


def test_trace_source_needs_a_file(tmp_path):
    with pytest.raises(C.ConfigError, match="workload.trace"):
        C.load({"workload": {"source": "trace"}})
    with pytest.raises(C.ConfigError, match="no such file"):
        C.load({"workload": {"source": "trace", "trace": str(tmp_path / "x")}})


@pytest.mark.parametrize("text, what", [
    ("this is not strace\n", "line 1"),
    ("", "empty capture"),
    ("1 00:00:00.000001 --- SIGINT {si_signo=SIGINT} ---\n", "no syscall lines"),
])
def test_cli_bad_capture_exit_2_nothing_written(tmp_path, text, what):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    out = tmp_path / "out"
    for argv in (["run", "--out", str(out), "--set", "workload.source=trace",
                  "--set", f"workload.trace={p}"],
                 ["fit", str(p), "--out", str(tmp_path / "fit.toml")]):
        r = subprocess.run([sys.executable, "-m", "fastring", *argv],
                           capture_output=True, text=True, env=CHILD_ENV,
                           cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert str(p) in r.stderr and what in r.stderr
        assert not out.exists() and not (tmp_path / "fit.toml").exists()


def test_skip_bad_lines_in_a_run(tmp_path):
    p = tmp_path / "cap.txt"
    p.write_text("junk\n" + TRACE)
    with pytest.raises(C.ConfigError, match="line 1"):
        C.load({"workload": {"source": "trace", "trace": str(p)}})
    cfg = C.load({"workload": {"source": "trace", "trace": str(p),
                               "trace_skip_bad": True}})
    assert cfg["run"]["events"] == 8
    assert parse(p, skip_bad=True).stats["skipped"] == 1
    with pytest.warns(RuntimeWarning, match="skipped 1 lines .* line 1"):
        res = api.run(cfg)
    assert res.runs.column("events").to_pylist() == [8] * len(cfg["run"]["strategies"])


def test_cli_replay_every_table_and_the_report(tmp_path):
    import pyarrow.parquet as pq
    from fastring.data import capture_path
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "fastring", "run", "--out", str(out),
                        "--no-progress", "--events-table",
                        "--set", "workload.source=trace",
                        "--set", f"workload.trace={capture_path('ls')}",
                        "--set", "workload.trace_loops=2"],
                       capture_output=True, text=True, env=CHILD_ENV, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    n = 2 * len(parse(capture_path("ls")))
    runs = pq.read_table(out / "runs.parquet")
    assert runs.column("events").to_pylist() == [n] * runs.num_rows
    assert runs.column("workload.source").to_pylist()[0] == "trace"
    events = pq.read_table(out / "events.parquet")
    assert events.num_rows == n * runs.num_rows
    assert "openat" in set(events.column("syscall").to_pylist())
    assert pq.read_table(out / "buffers.parquet").num_rows == 4 * runs.num_rows
    r = subprocess.run([sys.executable, "-m", "fastring", "report", str(out)],
                       capture_output=True, text=True, env=CHILD_ENV, cwd=tmp_path)
    assert r.returncode == 0, r.stderr


NAMES = ["openat", "read", "write", "close", "execve", "getpid"]


@st.composite
def captures(draw):
    """A random small capture: pids with interleaved calls of every payload
    type, some interrupted (unfinished/resumed), gaps from 0 to 2 ms."""
    n_pids = draw(st.integers(1, 5))
    t, lines, open_calls = 0, [], {}
    for _ in range(draw(st.integers(1, 40))):
        pid = 100 + draw(st.integers(0, n_pids - 1))
        t += draw(st.integers(0, 2000))
        ts = f"00:{t // 60_000_000:02d}:{t // 1_000_000 % 60:02d}.{t % 1_000_000:06d}"
        if pid in open_calls:
            lines.append(f"{pid} {ts} <... {open_calls.pop(pid)} resumed>) = 0")
            continue
        name = draw(st.sampled_from(NAMES))
        n = draw(st.integers(0, 9000))
        args = {"openat": f'AT_FDCWD, "{"p" * (n % 300)}", O_RDONLY',
                "read": f'3, "{"d" * min(n, 64)}"..., {n}',
                "write": f'1, "{"d" * min(n, 64)}"..., {n}',
                "execve": f'"/bin/x", ["x", "{"a" * (n % 100)}"], 0x1 /* 1 var */',
                "close": "3", "getpid": ""}[name]
        if draw(st.integers(0, 5)) == 0:
            lines.append(f"{pid} {ts} {name}({args} <unfinished ...>")
            open_calls[pid] = name
        else:
            ret = n if name in ("read", "write") else 0
            lines.append(f"{pid} {ts} {name}({args}) = {ret} <0.000001>")
    return "\n".join(lines) + "\n"


@settings(max_examples=15 if NO_JIT else 40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=captures(), strategy=st.sampled_from(["copy_then_commit", "nofault",
                                                  "restart_on_fault", "kmalloc_bounce"]),
       data=st.data())
def test_random_replays_match_the_reference(tmp_path, text, strategy, data):
    p = tmp_path / "cap.txt"
    p.write_text(text)
    cfg = C.load({"workload": {"source": "trace", "trace": str(p),
                               "trace_loops": data.draw(st.integers(1, 4)),
                               "capture": data.draw(st.sampled_from(POLICIES)),
                               "user_pages": 8, "working_set_pages": 2},
                  "machine": {"n_cpus": data.draw(st.integers(1, 3)),
                              "p_migrate": data.draw(st.sampled_from([0.0, 0.5]))},
                  "buffer": {"subbuf_size": data.draw(st.sampled_from([1024, 4096])),
                             "n_subbuf": 2,
                             "mode": data.draw(st.sampled_from(["discard", "overwrite"]))},
                  "reader": {"period_ns": data.draw(st.integers(1000, 100_000))},
                  "faults": {"p_minor": data.draw(st.sampled_from([0.0, 0.2])),
                             "p_major": data.draw(st.sampled_from([0.0, 0.2]))},
                  "run": {"strategies": [strategy],
                          "chunk_events": data.draw(st.integers(1, 50))}})
    ref = simulate(cfg, strategy)
    sim = api.Simulation(cfg, strategy, events_table=True)
    rows = []
    while not sim.done:
        rows.append(sim.advance())
    assert np.concatenate(rows).tolist() == [list(r) for r in ref.rows]
    assert len(ref.rows) == cfg["run"]["events"]
