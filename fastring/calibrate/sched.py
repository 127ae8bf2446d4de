"""The context-switch measurement (lmbench ``lat_ctx``'s method)."""
from __future__ import annotations

import os

from . import kernels as K
from ._util import aligned, run_threads, stats
from .guards import CalibrationError


def measure_context_switch(repeats, quick, res):
    """``context_switch``: two threads pinned to one CPU ping-pong a byte
    over two pipes, so every round trip is two switches plus two writes and
    two reads; one pinned thread writing and reading its own pipe (no switch)
    gives the syscalls alone, which are subtracted."""
    if not hasattr(os, "sched_setaffinity"):
        res["unmeasured"]["context_switch"] = "no sched_setaffinity here"
        return
    cpu = min(os.sched_getaffinity(0))
    n = 2000 if quick else 20000
    raw, buf, _ = aligned(128, 64)
    fds = [os.pipe() for _ in range(3)]
    (a_r, a_w), (b_r, b_w), (c_r, c_w) = fds

    def pinned(fn):
        def run():
            os.sched_setaffinity(0, {cpu})       # this thread only
            return fn()
        return run

    def round_trip():
        (dt, bad0), (_, bad1) = run_threads([
            pinned(lambda: K.k_pingpong(b_r, a_w, buf, True, n)),
            pinned(lambda: K.k_pingpong(a_r, b_w, buf + 64, False, n))])
        if bad0 or bad1:
            raise CalibrationError("pipe ping-pong: a read or write failed")
        return dt / n

    def solo():
        ((dt, bad),) = run_threads([pinned(
            lambda: K.k_pingpong(c_r, c_w, buf, True, n))])
        if bad:
            raise CalibrationError("pipe write+read failed")
        return dt / n

    try:
        round_trip()
        solo()                                   # warm up, compile
        rt, sy, sw = [], [], []
        for _ in range(repeats):
            a, b = round_trip(), solo()
            rt.append(a)
            sy.append(b)
            sw.append((a - 2 * b) / 2)
    finally:
        for r, w in fds:
            os.close(r)
            os.close(w)
        del raw
    res["costs"]["context_switch"] = dict(
        stats([max(x, 0.0) for x in sw]),
        what="pipe ping-pong of two threads on one CPU, per switch, less "
             "the pipe write+read (lmbench lat_ctx's method)")
    res["measured"]["pingpong_round_trip"] = dict(
        stats(rt), what="one round trip: two switches, two writes, two reads")
    res["measured"]["pipe_write_read"] = dict(
        stats(sy), what="one pipe write + read on one thread (no switch)")
