"""Real LTTng-UST against the model: ns per event, measured and predicted.

Builds a tracepoint provider with one event per shape (``int``: one int64
field; ``bytes64``/``bytes256``/``bytes1k``: a fixed byte array;
``string64``: a 63-character string plus its NUL), fires each shape from one
thread and from one thread per core (each pinned to its CPU) inside real
LTTng-UST sessions, in discard mode (a normal session whose consumer writes
the trace to ``/dev/shm``) and in overwrite mode (a snapshot session), and
measures each thread's CPU time per event (``CLOCK_THREAD_CPUTIME_ID``: on a
shared machine the time other processes took is left out; wall time is
reported beside it). Every case checks that its events were really
recorded (``tracepoint_enabled``, the session's discarded-event count, and a
babeltrace2 count of the trace).

The prediction runs the model (``fastring.run``) on the same buffer
settings with :data:`PROGRAM`, the UST fast path as a strategy program, each
step costed from the host profile or from a C microbenchmark of the step
itself (:data:`STEP_SOURCES`). Nothing is fitted to the LTTng figures.
Where the two differ, ``--perf`` splits LTTng's time by library with
``perf record`` to name the cost the model misses.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path

from . import _common as C
from ._ust_c import DRIVER_C, MICRO_C, TP_C, TP_H

INSTALL = ("apt-get update && apt-get install -y lttng-tools "
           "liblttng-ust-dev babeltrace2 gcc")

# The channel this comparison creates, as fastring config keys (one place;
# to be wired to tracer.preset = "lttng-ust"). Source: the command it runs,
# `lttng enable-channel -u --subbuf-size 1M --num-subbuf 8` (lttng-tools
# 2.13). The model's buffer.header_size cannot go below 40 B; UST's compact
# event header is 4 B (5-bit id + 27-bit timestamp, lttng-ust
# lttng-ring-buffer-client.h, lttng_write_event_header), which changes the
# space a record takes, not its CPU cost (the header is written with the
# reserve: clock_read + memcpy_byte x header_size).
CONFIG = {
    "buffer.subbuf_size": 1 << 20,
    "buffer.n_subbuf": 8,
}
CONFIG_SOURCES = {
    "buffer.subbuf_size": "lttng enable-channel -u --subbuf-size 1M",
    "buffer.n_subbuf": "lttng enable-channel -u --num-subbuf 8",
}

# shape -> (workload payload type, payload bytes LTTng copies)
SHAPES = {
    "int": ("buffer", 8),          # ctf_integer(int64_t): an 8-byte write
    "bytes64": ("buffer", 64),     # ctf_array(uint8_t, .., 64)
    "string64": ("string", 64),    # ctf_string: strlen + copy of 64 B
    "bytes256": ("buffer", 256),
    "bytes1k": ("buffer", 1024),
}
MODES = ("discard", "overwrite")

# The UST fast path (lttng-ust 2.13: tracepoint.h call site,
# ust-tracepoint-event.h probe, lttng-ring-buffer-client.h reserve/commit).
# UST has no preemption control; the program's preempt_off / preempt_on
# steps stand for the probe's entry and exit bookkeeping and are costed as
# such (STEP_SOURCES).
PROGRAM = [
    "strnlen",                     # strings: strlen in __event_get_size (the
                                   # model wants it outside preempt_off: a
                                   # kernel strnlen_user may fault)
    "preempt_off",                 # entry: tracepoint RCU read side + sched_getcpu
    "reserve atomic",              # clock read, lock cmpxchg, event header
    "copy_user_to_slot nofault",   # the field's memcpy (event_write)
    "commit_atomic",               # lock add on the sub-buffer's commit count
    "preempt_on",                  # exit: (charged at entry, see below)
]
STEP_SOURCES = {
    "preempt_off": "C microbenchmark: lttng_ust_tp_rcu_read_lock + "
                   "rcu_dereference_sym + read_unlock (the call site's RCU "
                   "read side, liblttng-ust-tracepoint) + sched_getcpu() "
                   "(lttng_ust_get_cpu)",
    "preempt_on": "0: the read-side unlock is in the measured pair above",
    "strnlen_byte": "C microbenchmark: strlen of the 64-byte string, per byte",
    "clock_read": "host profile: clock_gettime(CLOCK_MONOTONIC), what "
                  "lttng-ust's trace clock calls (one call per event, "
                  "counted with an LD_PRELOAD shim)",
    "atomic_cmpxchg": "host profile: lock cmpxchg (UST reserves with "
                      "v_cmpxchg = uatomic_cmpxchg)",
    "atomic_add": "host profile: lock add (UST commits with v_add = "
                  "uatomic_add)",
    "copy_user_call": "host profile memcpy_call: UST copies from the "
                      "application's own (cached) buffer with memcpy",
    "copy_user_byte": "host profile memcpy_byte (same reason)",
    "copy_from_user_extra": "0: user space, no access_ok/STAC/CLAC",
    "memcpy_byte": "host profile (the header write at reserve)",
}


def check() -> str:
    """Return the C compiler, or raise :class:`Unavailable` naming what is
    missing and the install command."""
    missing = [p for p in ("lttng", "lttng-sessiond") if not shutil.which(p)]
    if missing:
        raise C.Unavailable(f"LTTng-UST is not installed ({', '.join(missing)}"
                            f" not found on PATH); install it with: {INSTALL}")
    cc = C.compiler()
    with tempfile.TemporaryDirectory(prefix="fastring-ust-probe-") as d:
        src = Path(d, "probe.c")
        src.write_text("#include <lttng/tracepoint.h>\nint main(void)"
                       "{return 0;}\n")
        p = C.run([cc, "-E", str(src)], check=False)
        if p.returncode != 0:
            raise C.Unavailable("the header lttng/tracepoint.h is not found; "
                                f"install it with: {INSTALL}")
    return cc


def _sessiond() -> int | None:
    """Make sure a session daemon answers; return the pid of one started
    here (to stop afterwards), None if one was running already."""
    if C.run(["lttng", "list"], check=False, timeout=30).returncode == 0:
        return None
    C.run(["lttng-sessiond", "--daemonize"], timeout=60)
    for _ in range(50):
        if C.run(["lttng", "list"], check=False, timeout=30).returncode == 0:
            break
        time.sleep(0.1)
    else:
        raise C.Unavailable("started lttng-sessiond --daemonize, but `lttng "
                            "list` cannot reach it")
    pidfile = (Path("/var/run/lttng/lttng-sessiond.pid") if os.geteuid() == 0
               else Path.home() / ".lttng" / "lttng-sessiond.pid")
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return -1


def _stop_sessiond(pid: int | None) -> None:
    if pid is not None and pid > 0:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def events_per_run(shape: str, events: int) -> int:
    """At most ``events``, and few enough that one run fills at most half of
    a CPU's buffer (so discard mode drops nothing while the consumer is
    behind; record = ~16 B of header and alignment + payload)."""
    cap = CONFIG["buffer.subbuf_size"] * CONFIG["buffer.n_subbuf"] // 2
    return max(1, min(events, cap // (16 + SHAPES[shape][1])))


def _count_recorded(trace: Path, shape: str) -> int | None:
    if not shutil.which("babeltrace2"):
        return None
    p = C.run(["babeltrace2", str(trace)], check=False, timeout=600)
    return p.stdout.count(f"fastring_bench:{shape}:")


def measure_case(exe: Path, work: Path, mode: str, shape: str, threads: int,
                 n: int, runs: int) -> dict:
    """One session: run the driver, return CPU and wall ns/event of every
    (run, thread), the discarded count and the recorded count."""
    name = f"fastring-{os.getpid()}-{mode}-{shape}-{threads}"
    trace = work / name
    created = False
    try:
        if mode == "overwrite":
            C.run(["lttng", "create", name, "--snapshot", "--output", str(trace)])
        else:
            C.run(["lttng", "create", name, "--output", str(trace)])
        created = True
        C.run(["lttng", "enable-channel", "-u", "-s", name, "--subbuf-size",
               str(CONFIG["buffer.subbuf_size"]), "--num-subbuf",
               str(CONFIG["buffer.n_subbuf"]), f"--{mode}", "ch"])
        C.run(["lttng", "enable-event", "-u", "-s", name, "-c", "ch",
               f"fastring_bench:{shape}"])
        C.run(["lttng", "start", name])
        env = dict(os.environ, LTTNG_UST_REGISTER_TIMEOUT="10000")
        gap = 300_000 if mode == "discard" else 0
        p = C.run([str(exe), shape, str(n), str(runs), str(threads), str(gap)],
                  env=env, timeout=120 + (runs + 1) * (n * 5e-6 + gap * 1e-6))
        if mode == "overwrite":
            C.run(["lttng", "snapshot", "record", "-s", name], timeout=300)
        C.run(["lttng", "stop", name], timeout=300)
        listing = C.run(["lttng", "list", name], check=False).stdout
    finally:
        if created:
            C.run(["lttng", "destroy", name], check=False)
    if not re.search(r"^enabled 1$", p.stdout, re.M):
        raise C.Unavailable(
            f"the tracepoint fastring_bench:{shape} was not enabled in the "
            f"driver: the application did not register with the session "
            f"daemon, so it would time a disabled tracepoint")
    cpu, wall = [], []
    for m in re.finditer(r"cpu_ns ([\d.]+) wall_ns ([\d.]+)", p.stdout):
        cpu.append(float(m.group(1)))
        wall.append(float(m.group(2)))
    if len(cpu) != runs * threads:
        raise C.Unavailable(f"unexpected driver output: {p.stdout!r}")
    m = re.search(r"Discarded events:\s*(\d+)", listing)
    recorded = _count_recorded(trace, shape)
    shutil.rmtree(trace, ignore_errors=True)
    return {"cpu": cpu, "wall": wall, "discarded": int(m.group(1)) if m else None,
            "recorded": recorded, "fired": (runs + 1) * n * threads}


def microbench(exe: Path) -> dict[str, float]:
    """Median ns of each microbenchmarked step (see ``MICRO_C``)."""
    p = C.run([str(exe), "2000000", "9"], timeout=300)
    out = {}
    for line in p.stdout.splitlines():
        name, med, *_ = line.split()
        out[name] = float(med)
    return out


def step_costs(profile: dict, micro: dict) -> dict[str, float]:
    """The cost overrides of :data:`PROGRAM` (see :data:`STEP_SOURCES`)."""
    return {
        "preempt_off": micro["rcu_read_side"] + micro["getcpu"],
        "preempt_on": 0.0,
        "strnlen_byte": micro["strlen64"] / 64.0,
        "copy_user_call": profile["memcpy_call"],
        "copy_user_byte": profile["memcpy_byte"],
        "copy_from_user_extra": 0.0,
    }


def model_config(profile_name: str, costs: dict, mode: str, threads: int,
                 sim_events: int) -> dict:
    cfg = {
        "tracer": {"preset": "none"},     # the plain world: full capture, 100 us reader
        "run": {"seed": 1, "events": sim_events,
                "strategies": ["ust_fast_path"]},
        "machine": {"n_cpus": threads, "tasks_per_cpu": 1, "p_migrate": 0.0},
        "buffer": {"mode": mode},
        "reader": {"verify": False, "bytes_per_ns": 1000.0},
        "workload": {"think_ns": 0.0, "capture_max": 1024},
        "faults": {"p_minor": 0.0, "p_major": 0.0},
        "costs": {"profile": profile_name, **costs},
        "strategies": {"ust_fast_path": {
            "program": PROGRAM,
            "description": "the LTTng-UST fast path (fastring.tracers.lttng_ust)"}},
    }
    for key, value in CONFIG.items():
        sec, k = key.split(".")
        cfg[sec][k] = value
    return cfg


def predict(profile_name: str, costs: dict, mode: str, shape: str,
            threads: int, sim_events: int) -> float:
    payload, length = SHAPES[shape]
    mix = (f'workload.syscalls={{{shape}={{weight=1.0, payload="{payload}", '
           f'len_median={float(length)}, len_sigma=0.0}}}}')
    ns, row = C.predict(model_config(profile_name, costs, mode, threads,
                                     sim_events), [mix])
    got = row["payload_bytes"] / max(row["events"], 1)
    if abs(got - length) > 0.5:
        raise RuntimeError(f"the simulated {shape} events carried {got:.1f} "
                           f"payload bytes each, not {length}")
    return ns


def perf_split(exe: Path, work: Path, shape: str, n: int) -> dict | None:
    """Share of CPU samples per library (perf, see _common.perf_shares) of
    one overwrite-mode thread: where LTTng-UST's time goes."""
    name = f"fastring-{os.getpid()}-perf-{shape}"
    try:
        C.run(["lttng", "create", name, "--snapshot", "--output",
               str(work / name)])
        C.run(["lttng", "enable-channel", "-u", "-s", name, "--subbuf-size",
               str(CONFIG["buffer.subbuf_size"]), "--num-subbuf",
               str(CONFIG["buffer.n_subbuf"]), "--overwrite", "ch"])
        C.run(["lttng", "enable-event", "-u", "-s", name, "-c", "ch",
               f"fastring_bench:{shape}"])
        C.run(["lttng", "start", name])
        env = dict(os.environ, LTTNG_UST_REGISTER_TIMEOUT="10000")
        return C.perf_shares([str(exe), shape, str(n), "3", "1", "0"], "dso",
                             work, env=env)
    except C.Unavailable:
        return None
    finally:
        C.run(["lttng", "destroy", name], check=False)


def compare(events: int, runs: int, profile: str, sim_events: int,
            threads_list=None, shapes=None, modes=MODES,
            perf: bool = False) -> dict:
    """Measure and predict every case; return the rows and what they rest on."""
    from fastring.world import costs as K
    check()
    threads_list = threads_list or sorted({1, os.cpu_count() or 1})
    shapes = shapes or list(SHAPES)
    host = K.load_profile(profile)
    started = None
    with tempfile.TemporaryDirectory(prefix="fastring-ust-",
                                     dir="/dev/shm" if os.path.isdir("/dev/shm")
                                     else None) as d:
        work = Path(d)
        srcs = {"tp.h": TP_H, "tp.c": TP_C, "driver.c": DRIVER_C,
                "micro.c": MICRO_C}
        exe = C.build(work, srcs, "driver", ["driver.c", "tp.c"],
                      ["-llttng-ust", "-ldl", "-lpthread"])
        micro_exe = C.build(work, {}, "micro", ["micro.c"],
                            ["-llttng-ust-tracepoint", "-ldl"])
        micro = microbench(micro_exe)
        costs = step_costs(host, micro)
        rows = []
        try:
            started = _sessiond()
            for mode in modes:
                for shape in shapes:
                    n = events_per_run(shape, events)
                    for threads in threads_list:
                        m = measure_case(exe, work, mode, shape, threads, n, runs)
                        pred = predict(profile, costs, mode, shape, threads,
                                       sim_events)
                        rows.append({"mode": mode, "shape": shape,
                                     "threads": threads, "events_per_run": n,
                                     "measured_cpu_ns": C.median(m["cpu"]),
                                     "cpu_min": min(m["cpu"]),
                                     "cpu_max": max(m["cpu"]),
                                     "measured_wall_ns": C.median(m["wall"]),
                                     "model_ns": pred,
                                     "discarded": m["discarded"],
                                     "recorded": m["recorded"],
                                     "fired": m["fired"]})
            splits = {}
            if perf:
                for shape in shapes:
                    splits[shape] = perf_split(exe, work, shape,
                                               events_per_run(shape, events) * 4)
        finally:
            _stop_sessiond(started)
    return {"rows": rows, "micro": micro, "costs": costs, "host": host,
            "profile": profile, "perf": splits, "events": events,
            "runs": runs, "sim_events": sim_events}


TARGET = 0.25     # the model within 25% of the measurement


def _model_by_library(res: dict, shape: str) -> dict[str, float]:
    """The model's ns per event for the steps that run in each library."""
    h, c, mi = res["host"], res["costs"], res["micro"]
    length = SHAPES[shape][1]
    strlen = c["strnlen_byte"] * length if SHAPES[shape][0] == "string" else 0.0
    return {
        "[vdso]": h["clock_read"],
        "liblttng-ust-tracepoint + ld-linux (RCU read side, TLS)":
            mi["rcu_read_side"],
        "liblttng-ust (reserve, write, commit)":
            h["atomic_cmpxchg"] + h["memcpy_byte"] * 40 + h["atomic_add"],
        "libc (memcpy, strlen, sched_getcpu)":
            c["copy_user_call"] + c["copy_user_byte"] * length + strlen
            + mi["getcpu"],
        "provider and driver (probe checks, size, loop)": 0.0,
    }


LIBRARIES = {   # perf dso name prefixes per group of _model_by_library
    "[vdso]": ("[vdso]",),
    "liblttng-ust-tracepoint + ld-linux (RCU read side, TLS)":
        ("liblttng-ust-tracepoint", "ld-linux"),
    "liblttng-ust (reserve, write, commit)": ("liblttng-ust.so",),
    "libc (memcpy, strlen, sched_getcpu)": ("libc",),
    "provider and driver (probe checks, size, loop)": ("driver",),
}


def format_report(res: dict, facts: dict) -> str:
    rows = []
    for r in res["rows"]:
        ratio = r["model_ns"] / r["measured_cpu_ns"]
        ok = abs(ratio - 1.0) <= TARGET
        rec = ("-" if r["recorded"] is None else
               f"{r['recorded']:,}/{r['fired']:,}")
        rows.append((r["mode"], r["shape"], r["threads"],
                     f"{r['events_per_run']:,}",
                     f"{r['measured_cpu_ns']:.1f} ({r['cpu_min']:.1f}-"
                     f"{r['cpu_max']:.1f})",
                     f"{r['measured_wall_ns']:.1f}", f"{r['model_ns']:.1f}",
                     f"{ratio:.2f}", "yes" if ok else "**no**",
                     "-" if r["discarded"] is None else f"{r['discarded']:,}",
                     rec))
    n_ok = sum(abs(r["model_ns"] / r["measured_cpu_ns"] - 1) <= TARGET
               for r in res["rows"])
    out = ["# LTTng-UST: measured vs the model", "",
           f"{n_ok} of {len(res['rows'])} cases within {TARGET:.0%}."
           + ("" if n_ok == len(res["rows"]) or not res["perf"] else
              " Where not, the perf section below names the cost the model "
              "misses."), "",
           f"Command: `fastring validate lttng-ust --events {res['events']} "
           f"--runs {res['runs']} --profile {res['profile']}"
           f"{' --perf' if res['perf'] else ''}`", "",
           "Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()), "",
           "Measured: each thread's CPU time per event (CLOCK_THREAD_CPUTIME_"
           "ID), median over runs and threads (min-max); wall time beside it "
           "(inflated on this shared machine whenever other processes ran). "
           "Model: `cpu_ns_per_event` of `fastring.run` with the strategy "
           "program below on the same buffer settings. Target: model within "
           f"{TARGET:.0%} of the measurement.", "",
           C.table(("mode", "shape", "threads", "events/run",
                    "LTTng-UST CPU ns/event", "wall ns", "model ns",
                    "model/measured", f"within {TARGET:.0%}", "discarded",
                    "recorded/fired"), rows), "",
           "`recorded/fired`: events babeltrace2 found in the trace (overwrite "
           "mode: the snapshot keeps only the last buffers' worth) of the "
           "events fired, warm-up run included.", "",
           "## The strategy program and where each step's cost comes from", "",
           "```", *PROGRAM, "```", ""]
    srows = [(k, f"{v:.4g}", STEP_SOURCES.get(k, "host profile"))
             for k, v in sorted(res["costs"].items())]
    for k in ("clock_read", "atomic_cmpxchg", "atomic_add", "memcpy_byte"):
        srows.append((k, f"{res['host'][k]:.4g}", STEP_SOURCES[k]))
    out += [C.table(("cost key", "ns", "source"), srows), "",
            "C microbenchmark (median ns per operation, CPU time): "
            + ", ".join(f"{k} {v:.2f}" for k, v in res["micro"].items()), ""]
    if res["perf"]:
        out += ["## Where LTTng-UST's time goes (perf) and what the model "
                "misses", "",
                "`perf record -e cpu-clock` of one thread, overwrite mode; "
                "each library's share of the samples times the measured CPU "
                "ns/event (1 thread, overwrite), beside the model's ns for "
                "the steps that run there.", ""]
        meas = {r["shape"]: r["measured_cpu_ns"] for r in res["rows"]
                if r["mode"] == "overwrite" and r["threads"] == 1}
        for shape, shares in res["perf"].items():
            if not shares or shape not in meas:
                continue
            got = C.grouped(shares, LIBRARIES, meas[shape])
            out += C.miss_table(f"{shape} ({meas[shape]:.1f} ns/event)",
                                "where", got, _model_by_library(res, shape),
                                "event")
    return "\n".join(out) + "\n"
