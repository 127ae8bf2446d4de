#!/usr/bin/env python3
"""Compare real LTTng-UST per-event cost with fastring's prediction.

What it does
------------
1. Checks that LTTng-UST is usable here: the ``lttng`` and ``lttng-sessiond``
   programs, a C compiler and the header ``lttng/tracepoint.h`` (Debian:
   ``apt-get install lttng-tools liblttng-ust-dev``). If not, it says what is
   missing and exits 0.
2. Builds, in a temporary directory, a tiny tracepoint provider
   ``fastring_bench`` with two events, ``int_event`` (one ``ctf_integer``
   int64 field) and ``payload_event`` (a 64-byte ``ctf_array_text`` field),
   and a C driver that fires N events of each kind back to back on one thread
   and times them with ``clock_gettime(CLOCK_MONOTONIC)`` (one warm-up run,
   then ``--runs`` timed runs).
3. Runs the driver inside an overwrite-mode snapshot session
   (``lttng create --snapshot``; one UST channel in overwrite mode, 4
   sub-buffers of 128 KiB; ``lttng enable-event -u 'fastring_bench:*'``;
   ``lttng start``), starting ``lttng-sessiond --daemonize`` first if no
   session daemon answers (and stopping it afterwards). After the runs it
   records a snapshot and counts the events in it (with ``babeltrace`` when
   installed) to prove the events were really recorded, not skipped.
4. Prints ns per event (median of the runs, with min-max) beside fastring's
   predicted tracer CPU ns per event for ``copy_then_commit_atomic`` (the
   strategy LTTng-UST implements: reserve with ``lock cmpxchg``, commit with
   ``lock add``) under the host cost profile (``--profile FILE`` written by
   ``fastring calibrate``; by default a quick calibration is run first), and
   the ratio measured / predicted. The prediction comes from
   ``fastring.run(config)``'s ``runs`` table, column ``cpu_ns_per_event``; if
   that API is not importable yet the script says the prediction is
   unavailable and still prints the LTTng figures.

What the model includes
-----------------------
Per event, ``copy_then_commit_atomic`` charges: the timestamp clock read, the
reserve (``lock cmpxchg``), the preempt toggles around its non-preemptible
sections, the payload copy (memcpy call + per byte, plus the
``copy_from_user`` extra), and the commit (``lock add``). Each is taken from
the cost profile, so with a calibrated profile they are this host's figures.

What it omits (so the measured figure is expected to be higher)
---------------------------------------------------------------
The tracepoint call itself and probe dispatch (a call through a function
pointer, RCU read-side lock), the enable checks of session, channel and event,
finding the per-CPU buffer (``sched_getcpu``/rseq), writing the event header
and serializing each field with its alignment, sub-buffer switch bookkeeping
and the wake-up checks of the consumer, cache and TLB misses on the shared
memory buffer pages, and anything the consumer daemon does. It also charges
kernel-only steps that LTTng-UST does not have (preempt disable/enable,
``copy_from_user`` extra); a second prediction row zeroes them. The int64
event is simulated as an event without payload (its 8 bytes are written with
the header), and both events use the model's record header
(``buffer.header_size``), not LTTng's compact CTF event header.

Usage: ``python benchmarks/lttng_compare.py [--events N] [--runs R]
[--profile FILE] [--keep-sessiond]``. Always exits 0 unless its own
arguments are wrong: an environment where LTTng cannot run is a report, not a
failure.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:          # run from a checkout without install
    sys.path.insert(0, str(_REPO))

PROVIDER = "fastring_bench"
SUBBUF_SIZE = 128 * 1024
N_SUBBUF = 4

TP_H = r"""
#undef TRACEPOINT_PROVIDER
#define TRACEPOINT_PROVIDER fastring_bench

#undef TRACEPOINT_INCLUDE
#define TRACEPOINT_INCLUDE "./tp.h"

#if !defined(FASTRING_BENCH_TP_H) || defined(TRACEPOINT_HEADER_MULTI_READ)
#define FASTRING_BENCH_TP_H

#include <stdint.h>
#include <lttng/tracepoint.h>

TRACEPOINT_EVENT(fastring_bench, int_event,
    TP_ARGS(int64_t, value),
    TP_FIELDS(ctf_integer(int64_t, value, value)))

TRACEPOINT_EVENT(fastring_bench, payload_event,
    TP_ARGS(const char *, buf),
    TP_FIELDS(ctf_array_text(char, payload, buf, 64)))

#endif

#include <lttng/tracepoint-event.h>
"""

TP_C = r"""
#define TRACEPOINT_CREATE_PROBES
#define TRACEPOINT_DEFINE
#include "tp.h"
"""

DRIVER_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include "tp.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    char buf[64];
    for (int i = 0; i < 64; i++)
        buf[i] = 'a' + i % 26;
    printf("enabled %d %d\n",
           tracepoint_enabled(fastring_bench, int_event) != 0,
           tracepoint_enabled(fastring_bench, payload_event) != 0);
    for (int r = -1; r < runs; r++) {           /* run -1 warms up */
        int64_t t0 = now_ns();
        for (long i = 0; i < n; i++)
            tracepoint(fastring_bench, int_event, (int64_t)i);
        int64_t t1 = now_ns();
        for (long i = 0; i < n; i++) {
            buf[i & 63] ^= 1;                   /* the payload changes */
            tracepoint(fastring_bench, payload_event, buf);
        }
        int64_t t2 = now_ns();
        if (r >= 0)
            printf("run %d int %.4f payload %.4f\n", r,
                   (double)(t1 - t0) / n, (double)(t2 - t1) / n);
    }
    fflush(stdout);
    return 0;
}
"""

INCLUDES = """\
The model (copy_then_commit_atomic) includes, from the cost profile: the
timestamp clock read, reserve (lock cmpxchg), preempt toggles, the payload
copy (memcpy call + per byte + copy_from_user extra) and the commit (lock add).
It omits: the tracepoint call and probe dispatch (function pointer, RCU
read lock), session/channel/event enable checks, the per-CPU buffer lookup
(sched_getcpu/rseq), event-header and per-field serialization and alignment,
sub-buffer switch and consumer wake-up bookkeeping, cache/TLB misses on the
shared-memory buffer, and the consumer daemon's work. The int64 event is
simulated as a payload-less event and both use the model's record header
(buffer.header_size), not LTTng's compact CTF header. So LTTng-UST is
expected to cost more than predicted; the ratio says by how much. The
"UST-like" row zeroes the kernel-only steps UST does not have (preempt
toggles, copy_from_user extra)."""


class Unavailable(Exception):
    """LTTng-UST cannot be used here; the message says exactly why."""


def _run(cmd, timeout=60, check=True, env=None, cwd=None):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout, env=env, cwd=cwd)
    except FileNotFoundError as exc:
        raise Unavailable(f"cannot run {cmd[0]}: {exc}") from None
    except subprocess.TimeoutExpired:
        raise Unavailable(f"`{' '.join(cmd)}` did not finish in "
                          f"{timeout} s") from None
    if check and p.returncode != 0:
        raise Unavailable(f"`{' '.join(cmd)}` failed (exit {p.returncode}): "
                          f"{(p.stderr or p.stdout).strip()}")
    return p


def _compiler():
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            return shutil.which(cc)
    return None


def check_lttng() -> str:
    """Return the C compiler to use, or raise :class:`Unavailable`."""
    missing = [p for p in ("lttng", "lttng-sessiond") if not shutil.which(p)]
    if missing:
        raise Unavailable(f"LTTng-UST is not installed: {', '.join(missing)} "
                          f"not found on PATH (Debian: apt-get install "
                          f"lttng-tools liblttng-ust-dev)")
    cc = _compiler()
    if cc is None:
        raise Unavailable("no C compiler (cc, gcc or clang) to build the "
                          "tracepoint provider (apt-get install gcc)")
    with tempfile.TemporaryDirectory(prefix="fastring-lttng-probe-") as d:
        src = Path(d, "probe.c")
        src.write_text("#include <lttng/tracepoint.h>\nint main(void)"
                       "{return 0;}\n")
        p = subprocess.run([cc, "-E", str(src)], capture_output=True,
                           text=True)
        if p.returncode != 0:
            err = p.stderr.strip().splitlines()
            raise Unavailable("the header lttng/tracepoint.h is not found "
                              "(Debian: apt-get install liblttng-ust-dev)"
                              + (f": {err[-1]}" if err else ""))
    return cc


def build(workdir: Path, cc: str) -> Path:
    (workdir / "tp.h").write_text(TP_H)
    (workdir / "tp.c").write_text(TP_C)
    (workdir / "driver.c").write_text(DRIVER_C)
    exe = workdir / "driver"
    _run([cc, "-O2", "-I.", "-o", str(exe), "driver.c", "tp.c",
          "-llttng-ust", "-ldl"], cwd=workdir, timeout=120)
    return exe


def _sessiond_pidfile() -> Path:
    if os.geteuid() == 0:
        return Path("/var/run/lttng/lttng-sessiond.pid")
    home = os.environ.get("LTTNG_HOME", os.path.expanduser("~"))
    return Path(home, ".lttng", "lttng-sessiond.pid")


def ensure_sessiond() -> int | None:
    """Make sure a session daemon answers. Returns the pid of one this
    function started (to stop later), or None if one was running already."""
    p = _run(["lttng", "list"], check=False, timeout=30)
    if p.returncode == 0:
        return None
    _run(["lttng-sessiond", "--daemonize"], timeout=60)
    for _ in range(50):
        if _run(["lttng", "list"], check=False, timeout=30).returncode == 0:
            break
        time.sleep(0.1)
    else:
        raise Unavailable("started lttng-sessiond --daemonize, but "
                          "`lttng list` still cannot reach it")
    try:
        return int(_sessiond_pidfile().read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return -1          # started, but its pid is unknown: leave it


def stop_sessiond(pid: int | None) -> None:
    if pid is None or pid <= 0:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def run_traced(exe: Path, tracedir: Path, events: int, runs: int) -> dict:
    """Run the driver in a snapshot session; return per-run ns/event and the
    number of events found in a snapshot taken afterwards."""
    name = f"fastring-bench-{os.getpid()}"
    created = False
    try:
        _run(["lttng", "create", name, "--snapshot", "--output",
              str(tracedir)])
        created = True
        _run(["lttng", "enable-channel", "-u", "-s", name,
              "--subbuf-size", str(SUBBUF_SIZE), "--num-subbuf",
              str(N_SUBBUF), "--overwrite", "fbchan"])
        _run(["lttng", "enable-event", "-u", "-s", name, "-c", "fbchan",
              f"{PROVIDER}:*"])
        _run(["lttng", "start", name])
        env = dict(os.environ, LTTNG_UST_REGISTER_TIMEOUT="10000")
        p = _run([str(exe), str(events), str(runs)], env=env,
                 timeout=60 + events * runs * 2e-6)
        _run(["lttng", "snapshot", "record", "-s", name], timeout=120)
        _run(["lttng", "stop", name])
    finally:
        if created:
            _run(["lttng", "destroy", name], check=False)
    out = {"int": [], "payload": [], "enabled": None, "recorded": None}
    for line in p.stdout.splitlines():
        m = re.match(r"enabled (\d) (\d)", line)
        if m:
            out["enabled"] = (m.group(1) == "1", m.group(2) == "1")
        m = re.match(r"run \d+ int ([\d.]+) payload ([\d.]+)", line)
        if m:
            out["int"].append(float(m.group(1)))
            out["payload"].append(float(m.group(2)))
    if out["enabled"] != (True, True):
        raise Unavailable(
            f"the driver's tracepoints were not enabled (tracepoint_enabled "
            f"gave {out['enabled']}): the application did not register with "
            f"the session daemon, so its figures would be those of disabled "
            f"tracepoints")
    if len(out["int"]) != runs:
        raise Unavailable(f"unexpected driver output: {p.stdout!r}")
    if shutil.which("babeltrace"):
        bt = _run(["babeltrace", str(tracedir)], check=False, timeout=120)
        out["recorded"] = {
            "int": bt.stdout.count(f"{PROVIDER}:int_event:"),
            "payload": bt.stdout.count(f"{PROVIDER}:payload_event:")}
        if sum(out["recorded"].values()) == 0:
            raise Unavailable("the snapshot holds no fastring_bench events: "
                              "the events were not recorded")
    return out


def default_profile(workdir: Path) -> tuple[str, str]:
    """A host profile from a quick calibration (or the built-in default if
    the calibrator cannot be imported)."""
    try:
        from fastring import calibrate
    except Exception as exc:               # noqa: BLE001 - report and go on
        return "default", f"fastring.calibrate unavailable ({exc}); " \
                          f"built-in default profile"
    path = workdir / "host.toml"
    calibrate.write_profile(calibrate.measure(quick=True), path)
    return str(path), f"quick calibration on this host ({path.name})"


def predict(profile: str, sim_events: int) -> dict:
    """fastring's cpu_ns_per_event for copy_then_commit_atomic, per event
    kind, as configured and with the kernel-only steps zeroed; or
    ``{"error": why}``."""
    try:
        import fastring
        import fastring.config
        run = fastring.run
    except (ImportError, AttributeError) as exc:
        return {"error": f"prediction unavailable yet: fastring.run cannot "
                         f"be imported ({exc})"}
    kinds = {
        "int": 'workload.syscalls={int_event={weight=1, payload="none"}}',
        "payload": 'workload.syscalls={payload_event={weight=1, '
                   'payload="buffer", len_median=64, len_sigma=0}}',
    }
    ust_like = {"preempt_off": 0.0, "preempt_on": 0.0,
                "copy_from_user_extra": 0.0}
    out = {}
    try:
        for variant, extra_costs in (("model", {}), ("ust_like", ust_like)):
            for kind, mix in kinds.items():
                cfg = fastring.config.load({
                    "run": {"seed": 1, "events": sim_events,
                            "strategies": ["copy_then_commit_atomic"]},
                    "machine": {"n_cpus": 1, "tasks_per_cpu": 1,
                                "p_migrate": 0.0},
                    "buffer": {"subbuf_size": SUBBUF_SIZE,
                               "n_subbuf": N_SUBBUF, "mode": "overwrite"},
                    "reader": {"verify": False},
                    "workload": {"think_ns": 0.0, "capture": "full",
                                 "capture_max": 64},
                    "faults": {"p_minor": 0.0, "p_major": 0.0},
                    "costs": {"profile": profile, **extra_costs},
                }, overrides=[mix])
                # The override is passed again: fastring.run() loads its
                # argument over the defaults once more, and a table given as
                # a source merges into the default syscall mix; only an
                # override replaces it.
                try:
                    res = run(cfg, overrides=[mix])
                except TypeError:
                    res = run(cfg)
                row = res.runs.to_pylist()[0]
                got = row["payload_bytes"] / max(row["events"], 1)
                want = 0.0 if kind == "int" else 64.0
                if abs(got - want) > 1e-9:
                    return {"error": f"prediction unusable: the simulated "
                                     f"{kind} events carried {got:.1f} "
                                     f"payload bytes each, not {want:.0f}"}
                col = res.runs.column("cpu_ns_per_event")
                out[(variant, kind)] = float(col[0].as_py())
    except Exception as exc:               # noqa: BLE001 - the API is young
        return {"error": f"prediction failed: {type(exc).__name__}: {exc}"}
    return out


def _median(xs):
    return statistics.median(xs)


def report(meas: dict, pred: dict, profile_note: str, events: int,
           runs: int) -> str:
    lines = [f"LTTng-UST: {events:,} events per run, {runs} runs, one "
             f"thread, overwrite snapshot session ({N_SUBBUF} x "
             f"{SUBBUF_SIZE // 1024} KiB); fastring profile: {profile_note}",
             ""]
    head = ("event", "LTTng-UST ns", "min-max", "fastring model",
            "ratio", "UST-like model", "ratio")
    rows = [head]
    for kind, label in (("int", "int64 field"),
                        ("payload", "64-byte payload")):
        xs = meas[kind]
        med = _median(xs)
        row = [label, f"{med:.1f}", f"{min(xs):.1f}-{max(xs):.1f}"]
        for variant in ("model", "ust_like"):
            p = pred.get((variant, kind)) if "error" not in pred else None
            if p is None:
                row += ["n/a", "-"]
            else:
                row += [f"{p:.1f}", f"{med / p:.2f}x" if p > 0 else "-"]
        rows.append(tuple(row))
    w = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        lines.append("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                               for i, c in enumerate(r)))
    if meas.get("recorded"):
        rec = meas["recorded"]
        lines.append(f"\nsnapshot check: {rec['int']:,} int_event and "
                     f"{rec['payload']:,} payload_event records in the "
                     f"overwrite buffers after the runs (they keep only the "
                     f"most recent events)")
    if "error" in pred:
        lines.append(f"\nfastring prediction: {pred['error']}")
    lines += ["", INCLUDES]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description="LTTng-UST ns/event vs fastring's prediction for "
                    "copy_then_commit_atomic")
    ap.add_argument("--events", type=int, default=1_000_000,
                    help="events per kind per run (default %(default)s)")
    ap.add_argument("--runs", type=int, default=7,
                    help="timed runs, median taken (default %(default)s)")
    ap.add_argument("--profile", default=None, metavar="FILE",
                    help="cost profile for the prediction (default: run a "
                         "quick `fastring calibrate` first)")
    ap.add_argument("--sim-events", type=int, default=200_000,
                    help="events in the fastring simulation")
    ap.add_argument("--keep-sessiond", action="store_true",
                    help="leave a session daemon this script started running")
    args = ap.parse_args(argv)
    if args.events < 1 or args.runs < 1 or args.sim_events < 1:
        ap.error("--events, --runs and --sim-events must be >= 1")

    try:
        cc = check_lttng()
    except Unavailable as exc:
        print(f"lttng_compare: {exc}; nothing to compare.")
        return 0
    started = None
    with tempfile.TemporaryDirectory(prefix="fastring-lttng-") as d:
        work = Path(d)
        try:
            exe = build(work, cc)
            started = ensure_sessiond()
            meas = run_traced(exe, work / "trace", args.events, args.runs)
        except Unavailable as exc:
            print(f"lttng_compare: LTTng-UST cannot be measured here: {exc}")
            return 0
        finally:
            if not args.keep_sessiond:
                stop_sessiond(started)
        if args.profile is None:
            profile, note = default_profile(work)
        else:
            profile, note = args.profile, args.profile
        pred = predict(profile, args.sim_events)
        print(report(meas, pred, note, args.events, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
