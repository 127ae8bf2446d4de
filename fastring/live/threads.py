"""One strategy on real threads: writers (one per CPU, pinned where the
machine allows), a reader, and with real faults a page dropper.

Nothing here waits forever: the writers return to Python every few
thousand probes (to see a stop request), the main thread watches progress
and stops everything after ``live.timeout_s`` without any, and the reader's
final drain ends at the first pass that finds nothing complete: a sub-buffer
still incomplete then is *stuck* (its commits were lost) and is reported,
not waited on.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

from . import kernels as K
from .faults import thread_faults

BUDGET = 4096          # probe segments per writer_pass
IDLE_S = 20e-6         # a writer with nothing runnable naps this long
WATCH_S = 0.05         # the main thread's progress check


@dataclass
class Outcome:
    wall_s: float = 0.0
    finished: bool = False              # every event finished
    timed_out: bool = False
    minflt: int = 0                     # writer threads, getrusage
    majflt: int = 0
    pinned: list = field(default_factory=list)


def usable_cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def _pin(core: int) -> bool:
    try:
        os.sched_setaffinity(0, {core})   # 0: the calling thread
        return True
    except OSError:
        return False


def ps_per_cycle(span_s: float = 0.05) -> float:
    """ps per tick of the cycle counter, against CLOCK_MONOTONIC over
    ``span_s``; 0 when there is no usable counter (then the kernels read
    the clock). The counter must be constant-rate and synchronised across
    cores (x86 ``constant_tsc``/``nonstop_tsc``), else records stamped on
    different CPUs would not compare."""
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        pass
    if "constant_tsc" not in flags or "nonstop_tsc" not in flags:
        return 0.0
    c0, n0 = K.clock_pair()
    time.sleep(span_s)
    c1, n1 = K.clock_pair()
    return (n1 - n0) * 1000.0 / (c1 - c0) if c1 > c0 else 0.0


def compile_kernels(world, ring, L, prog) -> None:
    """Compile (or load from cache) outside the timed region."""
    K.writer_pass(world, ring, L, prog, 0, 0)
    K.reader_pass(world, ring, L)
    K.flush_all(ring)


def run_threads(world, ring, L, prog, *, timeout_s: float, period_s: float,
                pin: bool = True, progress=None, extra_threads=()) -> Outcome:
    """Run one live strategy to the end (or to a stop); Ctrl-C (or a SIGTERM
    turned into KeyboardInterrupt by the caller) stops every thread and
    re-raises."""
    n = int(L.par[K.P_THREADS])
    events = int(world.p[K.P_EVENTS])
    cores = usable_cores()
    out = Outcome(pinned=[False] * n)
    lock = threading.Lock()
    errors = []

    def writer(me):
        try:
            if pin:
                out.pinned[me] = _pin(cores[me % len(cores)])
            f0 = thread_faults()
            while True:
                rc = K.writer_pass(world, ring, L, prog, me, BUDGET)
                if rc == K.R_DONE:
                    break
                if rc == K.R_IDLE:
                    time.sleep(IDLE_S)
            f1 = thread_faults()
            with lock:
                out.minflt += f1[0] - f0[0]
                out.majflt += f1[1] - f0[1]
        except BaseException as exc:      # noqa: BLE001 - reported by the caller
            errors.append(exc)
            L.g[K.G_STOP] = 1

    flushed = threading.Event()
    quit_reader = threading.Event()

    def reader():
        try:
            while not quit_reader.is_set():
                final = flushed.is_set()
                if K.reader_pass(world, ring, L) == 0:
                    if final:
                        break
                    time.sleep(period_s)
        except BaseException as exc:      # noqa: BLE001
            errors.append(exc)

    writers = [threading.Thread(target=writer, args=(me,), daemon=True,
                                name=f"fastring-live-cpu{me}") for me in range(n)]
    rd = threading.Thread(target=reader, daemon=True, name="fastring-live-reader")
    helpers = list(extra_threads)
    t0 = time.perf_counter()
    try:
        for th in [*writers, rd, *helpers]:
            th.start()
        last, last_t = -1, time.monotonic()
        while any(th.is_alive() for th in writers):
            time.sleep(WATCH_S)
            done = int(L.g[K.G_DONE])
            if progress is not None:
                progress(min(done, events), events)
            if done != last:
                last, last_t = done, time.monotonic()
            elif time.monotonic() - last_t > timeout_s:
                out.timed_out = True
                L.g[K.G_STOP] = 1
        out.wall_s = time.perf_counter() - t0
        for th in writers:
            th.join()
        out.finished = int(L.g[K.G_DONE]) >= events and not out.timed_out
        K.flush_all(ring)                 # writers are gone: pad the last ones
        flushed.set()
        rd.join(timeout_s)
        if rd.is_alive():
            quit_reader.set()
            rd.join()
    except BaseException:
        L.g[K.G_STOP] = 1
        quit_reader.set()
        for th in [*writers, rd]:
            th.join(5.0)
        raise
    finally:
        for th in helpers:
            th.stop.set()
            th.join(5.0)
    if errors:
        raise errors[0]
    return out


def stuck_subbufs(ring) -> list[dict]:
    """Sub-buffers the reader could not take after the final flush: their
    commit count never reached a whole sub-buffer."""
    from ..model import buffer as B
    geo = ring.geo
    subbuf, nsub = int(geo[B.G_SUBBUF]), int(geo[B.G_NSUB])
    out = []
    for b in range(int(geo[B.G_NBUF])):
        rd, wr = int(ring.st[b, B.RD]), int(ring.st[b, B.WR])
        if rd < wr:
            s = b * nsub + (rd // subbuf) % nsub
            lap = rd // (subbuf * nsub)
            cc = int(ring.cc[2 * s]) + int(ring.cc[2 * s + 1])
            out.append({"cpu": b, "subbuf": s - b * nsub, "committed": cc - lap * subbuf,
                        "expected": subbuf, "pending_bytes": wr - rd})
    return out
