"""Real ftrace (``trace_marker``) against the model.

Linux 6.18's ``tracing_mark_write()`` (kernel/trace/trace.c) copies the
user's bytes with ``trace_user_fault_read()``: preemption off, read the CPU's
context-switch count, disable migration, enable preemption,
``copy_from_user`` into a per-CPU scratch buffer (faults allowed), disable
preemption, enable migration, and retry while the count changed; then,
preemption still off, it reserves a ``TRACE_PRINT`` event in the per-CPU
ring buffer, memcpys the scratch buffer into it and commits. That is the
model's ``percpu_retry`` strategy, run here for real.

Measured per size (1 B to 4 KiB), from a C loop of ``write(2)`` in an ftrace
instance of its own: CPU ns per write with tracing on, with tracing off (the
write returns at once), and to ``/dev/null``; the tracer's cost is on - off.
Then a run whose user buffer is a file mapping with its pages dropped before
every write (``madvise(MADV_DONTNEED)`` + ``posix_fadvise(DONTNEED)``), so
that the copy takes a real major fault and sleeps: faults and context
switches per write are counted with ``getrusage`` (each switch during the
copy makes ``trace_user_fault_read`` retry), the fault alone is timed by
touching the dropped page, and the model predicts the write's added latency
with every event's first page missing.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from . import _common as C
from ._ftrace_c import MARKER_C

TRACEFS = Path("/sys/kernel/tracing")
MOUNT = ["mount", "-t", "tracefs", "nodev", str(TRACEFS)]
SIZES = (1, 64, 256, 1024, 4096)
DROPPED_SIZES = (64, 4096)

# ftrace's buffer as fastring config keys (one place; to be wired to
# tracer.preset = "ftrace").
CONFIG = {
    "buffer.subbuf_size": 4096,
    "buffer.n_subbuf": 512,
    "buffer.mode": "overwrite",
}
CONFIG_SOURCES = {
    "buffer.subbuf_size": "one page: kernel/trace/ring_buffer.c allocates "
                          "each sub-buffer (buffer_data_page) as a page "
                          "unless buffer_subbuf_size_kb is set (default 4); "
                          "16 B of it is the page header (BUF_PAGE_HDR_SIZE)",
    "buffer.n_subbuf": "this comparison's instance: buffer_size_kb = 2048 "
                       "per CPU = 512 pages (the kernel default, "
                       "TRACE_BUF_SIZE_DEFAULT in kernel/trace/trace.c, is "
                       "1441792 B = 352 pages; the model wants a power of 2)",
    "buffer.mode": "options/overwrite defaults to 1 (kernel/trace/trace.c "
                   "TRACE_ITER_OVERWRITE in TRACE_DEFAULT_FLAGS)",
}
# The event header: 4 B ring_buffer_event (type_len:5, time_delta:27), + 4 B
# length word above 112 B of data (RB_MAX_SMALL_DATA), + struct print_entry
# (8 B trace_entry + 8 B ip): 20-24 B, under the model's minimum
# buffer.header_size of 40. It changes a record's size, not its CPU cost
# beyond memcpy_byte x header.

INSTALL = ("as root: mount -t tracefs nodev /sys/kernel/tracing (a kernel "
           "with CONFIG_TRACING), and a C compiler: apt-get install -y gcc")

STEP_SOURCES = {
    "copy_user_call": "host profile memcpy_call: the loop writes the same "
                      "buffer, in cache (the dropped-page run is the cold case)",
    "copy_user_byte": "host profile memcpy_byte (same reason)",
    "dropped-page run": "copy_user_call/copy_user_byte of the profile (the "
                        "page was just read from disk: not in cache)",
    "others": "host profile (calibrated keys) or the built-in default "
              "(preempt/migrate toggles, copy_from_user_extra, "
              "context_switch: kernel-only, see fastring/world/costs.py SOURCES)",
}


def check() -> str:
    """Mount tracefs if needed; return the C compiler or raise
    :class:`Unavailable` saying why."""
    if not (TRACEFS / "trace_marker").exists():
        p = C.run(MOUNT, check=False)
        if p.returncode != 0 or not (TRACEFS / "trace_marker").exists():
            raise C.Unavailable(
                f"tracefs is not mounted and cannot be ({' '.join(MOUNT)}: "
                f"{(p.stderr or p.stdout).strip() or 'no trace_marker'}); "
                f"needs {INSTALL}")
    if not os.access(TRACEFS / "instances", os.W_OK):
        raise C.Unavailable(f"{TRACEFS}/instances is not writable (needs root)")
    return C.compiler()


def _parse(stdout: str) -> list[dict]:
    runs = []
    for m in re.finditer(r"cpu_ns ([\d.]+) wall_ns ([\d.]+) majflt ([\d.]+) "
                         r"minflt ([\d.]+) nvcsw ([\d.]+) took (-?\d+)", stdout):
        runs.append(dict(zip(("cpu", "wall", "majflt", "minflt", "nvcsw"),
                             map(float, m.groups()[:5])),
                         took=int(m.group(6))))
    if not runs:
        raise C.Unavailable(f"unexpected output of the marker loop: {stdout!r}")
    return runs


def _med(runs, key):
    return C.median([r[key] for r in runs])


def _loop(exe, target, size, n, runs, file=None):
    cmd = [str(exe), str(target), str(size), str(n), str(runs)]
    return _parse(C.run(cmd + ([str(file)] if file else []),
                        timeout=600).stdout)


def model_config(profile: str, host: dict, size: int, captured: int,
                 dropped: bool, major_ns: float,
                 sim_events: int) -> tuple[dict, list[str]]:
    """The model's world for one case: one CPU, one task writing back to
    back; the hot loop's user copy at the hot memcpy cost (STEP_SOURCES), the
    dropped page's at the profile's cold user-copy cost."""
    hot = {} if dropped else {"copy_user_call": host["memcpy_call"],
                              "copy_user_byte": host["memcpy_byte"]}
    cfg = {
        "tracer": {"preset": "none"},     # the plain world: full capture, 100 us reader
        "run": {"seed": 1, "events": sim_events, "strategies": ["percpu_retry"]},
        "machine": {"n_cpus": 1, "tasks_per_cpu": 1, "p_migrate": 0.0},
        "buffer": {},
        "reader": {"verify": False, "bytes_per_ns": 1000.0},
        "workload": {"think_ns": 0.0, "capture_max": captured,
                     "user_pages": 4, "working_set_pages": 1},
        "faults": {"p_minor": 0.0, "p_major": 1.0 if dropped else 0.0,
                   "major_ns": major_ns, "sigma": 0.0},
        "costs": {"profile": profile, **hot},
    }
    for key, value in CONFIG.items():
        sec, k = key.split(".")
        cfg[sec][k] = value
    mix = (f'workload.syscalls={{marker={{weight=1.0, payload="buffer", '
           f'len_median={float(size)}, len_sigma=0.0}}}}')
    return cfg, [mix]


def compare(events: int, runs: int, profile: str, sim_events: int,
            sizes=SIZES, dropped_sizes=DROPPED_SIZES, dropped_writes=300,
            perf: bool = False) -> dict:
    """Measure and predict every size; return the rows."""
    from fastring.world import costs as K
    check()
    host = K.load_profile(profile)
    n = min(events, 200_000)
    inst = TRACEFS / "instances" / f"fastring-{os.getpid()}"
    rows, drows = [], []
    with tempfile.TemporaryDirectory(prefix="fastring-ftrace-") as d, \
            tempfile.TemporaryDirectory(prefix="fastring-ftrace-",
                                        dir="/var/tmp") as disk:
        work = Path(d)
        exe = C.build(work, {"marker.c": MARKER_C}, "marker", ["marker.c"], [])
        inst.mkdir()
        try:
            (inst / "buffer_size_kb").write_text(
                str(CONFIG["buffer.subbuf_size"] * CONFIG["buffer.n_subbuf"]
                    // 1024))
            marker = inst / "trace_marker"
            for size in sizes:
                (inst / "tracing_on").write_text("1")
                on = _loop(exe, marker, size, n, runs)
                (inst / "tracing_on").write_text("0")
                off = _loop(exe, marker, size, n, runs)
                null = _loop(exe, "/dev/null", size, n, runs)
                captured = on[-1]["took"]
                if captured <= 0:
                    raise C.Unavailable(f"write({size} B) to {marker} failed "
                                        f"with tracing on")
                cfg, ov = model_config(profile, host, size, captured, False, 0.0,
                                       sim_events)
                pred, _ = C.predict(cfg, ov)
                rows.append({"size": size, "captured": captured,
                             "on": _med(on, "cpu"), "off": _med(off, "cpu"),
                             "null": _med(null, "cpu"),
                             "tracer": _med(on, "cpu") - _med(off, "cpu"),
                             "tracer_min": min(a["cpu"] for a in on)
                             - max(b["cpu"] for b in off),
                             "tracer_max": max(a["cpu"] for a in on)
                             - min(b["cpu"] for b in off),
                             "model": pred})
            (inst / "tracing_on").write_text("1")
            splits = {}
            for size in (dropped_sizes if perf else ()):
                splits[size] = C.perf_shares(
                    [str(exe), str(marker), str(size), str(n), "2"], "sym", work)
            for size in dropped_sizes:
                f = Path(disk, "buffer")
                # alternate bare faults and writes run by run: the disk's
                # service time drifts on a shared machine
                fault, dr = [], []
                for _ in range(runs):
                    fault += _loop(exe, "touch", size, dropped_writes, 1, f)
                    dr += _loop(exe, marker, size, dropped_writes, 1, f)
                major = _med(fault, "wall")
                base = next((r["off"] for r in rows if r["size"] == size), 0.0)
                cfg, ov = model_config(profile, host, size, dr[-1]["took"], True,
                                       major, sim_events // 10)
                _, row = C.predict(cfg, ov)
                drows.append({
                    "size": size, "fault_wall": major,
                    "wall": _med(dr, "wall"), "cpu": _med(dr, "cpu"),
                    "majflt": _med(dr, "majflt"), "nvcsw": _med(dr, "nvcsw"),
                    "added": _med(dr, "wall") - base,
                    "model_latency": row["latency_p50_ns"],
                    "model_faults": row["faults_major"] / max(row["events"], 1),
                    "model_retries": row["retries"] / max(row["events"], 1)})
        finally:
            (inst / "tracing_on").write_text("0")
            inst.rmdir()
    return {"rows": rows, "dropped": drows, "host": host, "profile": profile,
            "events": n, "runs": runs, "dropped_writes": dropped_writes,
            "perf": splits}


TARGET = 0.25

# kernel symbols (perf, prefixes) per part of the marker path, beside the
# model's steps for that part (_model_parts)
PARTS = {
    "trace clock": ("pvclock_clocksource_read", "kvm_sched_clock_read",
                    "sched_clock", "trace_clock_local", "native_sched_clock"),
    "ring buffer reserve + commit": ("ring_buffer_lock_reserve",
                                     "__rb_reserve_next", "rb_",
                                     "ring_buffer_unlock_commit",
                                     "ring_buffer_event_data",
                                     "tracing_gen_ctx", "__buffer_unlock"),
    "copy_from_user checks (hardened usercopy)": (
        "__check_object_size", "__virt_addr_valid", "is_vmalloc_addr",
        "__check_heap_object", "check_stack_object", "check_heap_object"),
    "user copy + retry loop": ("trace_user_fault_read",
                               "nr_context_switches_cpu", "_copy_from_user",
                               "copy_user", "rep_movs"),
    "memcpy into the ring buffer": ("__pi_memcpy", "memcpy", "__memcpy"),
    "marker write (tracing_mark_write, write_marker_to_buffer)": (
        "tracing_mark_write", "write_marker_to_buffer"),
}


def _model_parts(h: dict, n: int) -> dict[str, float]:
    return {
        "trace clock": h["clock_read"],
        "ring buffer reserve + commit": h["local_cmpxchg"]
        + h["memcpy_byte"] * 40 + h["local_add"],
        "copy_from_user checks (hardened usercopy)": h["copy_from_user_extra"],
        "user copy + retry loop": h["memcpy_call"] + h["memcpy_byte"] * n
        + 2 * h["cs_count_read"] + 2 * h["preempt_off"] + 2 * h["preempt_on"]
        + h["migrate_off"] + h["migrate_on"],
        "memcpy into the ring buffer": h["memcpy_call"] + h["memcpy_byte"] * n,
        "marker write (tracing_mark_write, write_marker_to_buffer)": 0.0,
    }


def format_report(res: dict, facts: dict) -> str:
    from fastring.model.strategies import BUILTIN
    rows = []
    for r in res["rows"]:
        ratio = r["model"] / r["tracer"] if r["tracer"] > 0 else float("nan")
        rows.append((r["size"], r["captured"], f"{r['on']:.0f}",
                     f"{r['off']:.0f}", f"{r['null']:.0f}",
                     f"{r['tracer']:.0f} ({r['tracer_min']:.0f} to "
                     f"{r['tracer_max']:.0f})", f"{r['model']:.0f}",
                     f"{ratio:.2f}",
                     "yes" if abs(ratio - 1) <= TARGET else "**no**"))
    drows = [(d["size"], f"{d['majflt']:.2f}", f"{d['nvcsw']:.2f}",
              f"{d['model_faults']:.2f}", f"{d['model_retries']:.2f}",
              f"{d['fault_wall']:,.0f}", f"{d['wall']:,.0f}",
              f"{d['added']:,.0f}", f"{d['model_latency']:,.0f}",
              f"{d['model_latency'] / d['added']:.2f}" if d["added"] > 0
              else "-")
             for d in res["dropped"]]
    h = res["host"]
    n_ok = sum(r["tracer"] > 0 and abs(r["model"] / r["tracer"] - 1) <= TARGET
               for r in res["rows"])
    out = ["# ftrace trace_marker: measured vs the model", "",
           f"Kernel {os.uname().release}. {n_ok} of {len(res['rows'])} sizes "
           f"within {TARGET:.0%}"
           + ("." if n_ok == len(res["rows"]) or not res["perf"] else
              "; where not, the perf section names the cost the model "
              "misses."), "",
           f"Command: `fastring validate ftrace --events {res['events']} "
           f"--runs {res['runs']} --profile {res['profile']}"
           f"{' --perf' if res['perf'] else ''}`", "",
           "Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()), "",
           "CPU ns per write(2) of a C loop (CLOCK_THREAD_CPUTIME_ID around "
           f"{res['events']:,} writes, median of {res['runs']} runs; the "
           "machine was shared, so CPU time, not wall time), in an ftrace "
           "instance of its own: tracing on, tracing off (the write returns "
           "-EBADF before copying), and to /dev/null. The tracer's cost is "
           "on - off (range: the extreme runs). Model: `cpu_ns_per_event` "
           "of the built-in `percpu_retry` strategy on ftrace's buffer "
           f"settings. Target: model within {TARGET:.0%}.", "",
           C.table(("bytes written", "bytes recorded", "on ns", "off ns",
                    "/dev/null ns", "tracer (on - off) ns", "model ns",
                    "model/measured", f"within {TARGET:.0%}"), rows), "",
           "## Pages dropped before every write: real faults and retries", "",
           f"{res['dropped_writes']} writes per run, runs alternating with "
           "runs of bare faults; before each write, "
           "madvise(MADV_DONTNEED) on the shared file mapping (ext4) and "
           "posix_fadvise(POSIX_FADV_DONTNEED): the copy takes a major "
           "fault that reads the page from disk and sleeps, and the context "
           "switch makes trace_user_fault_read() copy again. Faults and "
           "voluntary context switches per write from getrusage(RUSAGE_"
           "THREAD); the bare fault timed by touching the dropped page "
           "(wall); the write's added latency is its wall time less the "
           "tracing-off CPU time. Model: `percpu_retry` with every event's "
           "first page missing (faults.p_major = 1, faults.major_ns = the "
           "measured bare fault, sigma 0), its `latency_p50_ns`.", "",
           C.table(("bytes", "major faults/write", "ctx switches/write",
                    "model faults/event", "model retries/event",
                    "bare fault ns", "write ns (wall)", "added ns",
                    "model latency ns", "model/measured"), drows), "",
           *_perf_section(res),
           "## The strategy program and its costs", "",
           "```", *BUILTIN["percpu_retry"][1], "```", "",
           "Buffer settings (config keys, sources):", ""]
    out += [f"* `{k}` = {v}: {CONFIG_SOURCES[k]}" for k, v in CONFIG.items()]
    out += ["", C.table(("cost key", "ns"),
                        [(k, f"{h[k]:.4g}") for k in
                         ("preempt_off", "preempt_on", "migrate_off",
                          "migrate_on", "cs_count_read", "copy_user_call",
                          "copy_user_byte", "copy_from_user_extra",
                          "clock_read", "local_cmpxchg", "memcpy_call",
                          "memcpy_byte", "local_add", "context_switch")]),
            "", "Sources: " + "; ".join(f"{k}: {v}" for k, v in
                                         STEP_SOURCES.items()), ""]
    return "\n".join(out) + "\n"


def _perf_section(res: dict) -> list[str]:
    if not res.get("perf"):
        return []
    out = ["## Where the marker path's time goes (perf) and what the model "
           "misses", "",
           "`perf record -e cpu-clock` of the tracing-on loop: the measured "
           "tracer cost (on - off) split over the parts of the marker path "
           "in proportion to their kernel symbols' samples, beside the "
           "model's steps for each part. (Raw shares times the on-CPU time "
           "would over-count: timer sampling in this VM lands more often in "
           "the tracing code than its share of on - off.)", ""]
    on = {r["size"]: (r["tracer"], r["captured"]) for r in res["rows"]}
    for size, shares in res["perf"].items():
        if not shares or size not in on:
            continue
        ns, n = on[size]
        got = C.grouped(shares, PARTS, 1.0)
        total = sum(got.values())
        got = {p: ns * v / total for p, v in got.items()} if total else got
        out += C.miss_table(f"{size} B (tracer cost {ns:.0f} ns per write)",
                            "part", got, _model_parts(res["host"], n), "write")
    return out
