"""Measurements of counters, atomics, the clock and the per-CPU slot read."""
from __future__ import annotations

import os

import numpy as np

from . import kernels as K
from ._util import aligned, run_threads, series, stats
from .guards import CalibrationError


def atomic_add_threads(n: int, threads: int = 2) -> tuple[int, int]:
    """``threads`` threads each do ``n`` ``lock add`` of 1 on one int64 at
    once; returns ``(final value, threads * n)`` (they must be equal)."""
    raw, addr, off = aligned(64, 64)
    ctl_raw, ctl, _ = aligned(256, 64)
    # Every thread is a "leader" that does exactly n adds.
    res = run_threads([lambda: K.k_contend(addr, ctl, threads, True, n)
                       for _ in range(threads)])
    total = int(raw[off:off + 8].view(np.int64)[0])
    if any(done != n for _, done, _ in res):
        raise CalibrationError(f"threads did {[r[1] for r in res]} adds, "
                               f"not {n} each")
    del ctl_raw
    return total, threads * n


def measure_counters(repeats, target, res):
    raw, addr, off = aligned(64, 64)
    view = raw[off:off + 64].view(np.int64)

    def exact(name):
        """Every one of the 8 counters went up by exactly n (nothing was
        folded away or merged), and the kernel's check value agrees."""
        def check(n, chk):
            vals = view.copy()
            if not np.all(vals == n) or chk != 8 * n:
                raise CalibrationError(f"{name}: counters {vals} (check "
                                       f"{chk}) != {n} each")
            view[:] = 0
        return check

    for key, kernel in (("local_add", K.k_local_add),
                        ("atomic_add", K.k_atomic_add),
                        ("local_cmpxchg", K.k_local_cas),
                        ("atomic_cmpxchg", K.k_atomic_cas)):
        view[:] = 0
        res["costs"][key] = stats(series(kernel, (addr,), 8, repeats,
                                         target, exact(key)))


def measure_contended(repeats, target, res):
    ncpu = os.cpu_count() or 1
    if ncpu < 2:
        res["unmeasured"]["atomic_add_contended"] = (
            "single-CPU host: no second CPU to contend with")
        res["notes"].append("atomic_add_contended skipped: os.cpu_count() == 1")
        return
    raw, addr, off = aligned(64, 64)
    ctl_raw, ctl, coff = aligned(256, 64)
    cell = raw[off:off + 8].view(np.int64)
    ctlv = ctl_raw[coff:coff + 128].view(np.int64)

    def once(n):
        cell[:] = 0
        ctlv[:] = 0
        (dt0, d0, inside), (dt1, d1, _) = run_threads([
            lambda: K.k_contend(addr, ctl, 2, True, n),
            lambda: K.k_contend(addr, ctl, 2, False, n)])
        if int(cell[0]) != d0 + d1:
            raise CalibrationError(
                f"contended lock add lost updates: {int(cell[0])} != "
                f"{d0} + {d1}")
        # Contended only if the other thread really ran alongside: sharing
        # the line, it adds about as often as the leader. On a busy machine
        # it may sit descheduled during the leader's window, leaving the
        # leader uncontended.
        overlapped = inside >= n // 2
        return dt0 / n, (dt1 / d1 if d1 else float("nan")), overlapped

    # size the leader's loop from a short contended pilot run
    once(1000)
    per_op = max(once(10_000)[0], 0.1)
    n = int(min(max(target / per_op, 1000), 1 << 26))
    lead, foll = [], []
    tries = 0
    while len(lead) < repeats and tries < 4 * repeats:
        tries += 1
        a, b, overlapped = once(n)
        if overlapped:
            lead.append(a)
            foll.append(b)
    if tries > len(lead):
        res["notes"].append(
            f"atomic_add_contended: {tries - len(lead)} of {tries} runs "
            f"discarded, the second thread did not run alongside (busy host)")
    if not lead:
        res["unmeasured"]["atomic_add_contended"] = (
            "the second thread never ran alongside the first (busy host)")
        return
    res["costs"]["atomic_add_contended"] = stats(lead)
    res["measured"]["atomic_add_contended_other_thread"] = dict(
        stats(foll), what="the same, seen from the second thread")
    del ctl_raw


def measure_clock_and_cs(repeats, target, res):
    def mono(n, chk):
        if chk < 0:
            raise CalibrationError("CLOCK_MONOTONIC went backwards")
    res["costs"]["clock_read"] = stats(series(K.k_clock, (), 1, repeats,
                                              target, mono))
    raw, base, off = aligned(512, 64)
    slots = raw[off:off + 512].view(np.int64)
    slots[::8] = np.arange(1, 9)
    expect = int(slots.sum())

    def sums(n, chk):
        if chk != expect * n:
            raise CalibrationError("per-CPU slot reads were folded away")
    res["costs"]["cs_count_read"] = stats(
        series(K.k_slot_read, (base,), 8, repeats, target, sums))
    braw, buf, _ = aligned(256, 64)

    def ok(n, chk):
        if chk < 0:
            raise CalibrationError("getrusage(RUSAGE_THREAD) failed")
    res["measured"]["getrusage_cs_read"] = dict(
        stats(series(K.k_getrusage, (buf,), 1, repeats, target / 4, ok)),
        what="getrusage(RUSAGE_THREAD) -> ru_nvcsw+ru_nivcsw (a syscall)")
