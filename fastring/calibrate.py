"""``fastring calibrate``: measure a cost profile on the host it runs on.

The built-in ``default`` profile (:mod:`fastring.costs`) comes from published
figures. This module measures the primitives it can reproduce in user space,
from numba-compiled code (``@njit(cache=True)``), and writes them as a profile
file that ``costs.profile = "FILE"`` loads.

Method
------
Every figure is the median of ``repeats`` runs; each run times a loop of many
operations with ``clock_gettime(CLOCK_MONOTONIC)`` called from inside the
compiled code, and is divided by the number of operations. The spread reported
beside each median is the inter-quartile range (p25-p75) and min/max of the
runs.

The operations are LLVM instructions emitted through numba ``@intrinsic``\\ s on
raw int64 addresses, so the compiler cannot turn them into something else:

==========================  ==================================================
``local_add``               relaxed (``monotonic``) load + add + relaxed store
                            of an int64: a plain ``mov/add/mov``, no ``lock``;
                            8 counters in one cache line, unrolled, so the
                            figure is the throughput cost of one add (what a
                            probe pays), not store-forwarding latency
``atomic_add``              ``atomicrmw add seq_cst`` (``lock add``), same 8
                            counters, one thread
``atomic_add_contended``    ``lock add`` on one int64 that a second thread
                            (``nogil`` numba function on another Python
                            thread) hammers at the same time; runs in which
                            the other thread did not add at least half as
                            often inside the timed window are discarded;
                            skipped on a single-CPU host
``local_cmpxchg``           plain load, compare, store if equal (no
                            ``cmpxchg`` instruction, no ``lock``)
``atomic_cmpxchg``          ``cmpxchg seq_cst`` (``lock cmpxchg``)
``memcpy_call``,            ``llvm.memcpy`` with a run-time length (a call to
``memcpy_byte``             libc ``memcpy``, via ``cgutils.raw_memcpy``) for 16
                            B to 4 KiB, source and destination in cache; a
                            line ``call + byte * size`` is fitted per run
                            (weighted by 1/time). The same fit with source and
                            destination spread over a 256 MiB arena (out
                            of cache, lines in pseudo-random order, each
                            copy waiting for the previous one so the miss
                            latency shows) is reported under ``[measured]``
``kmalloc_kfree``           libc ``malloc(256)`` + ``free`` on one thread (the
                            user-space stand-in for SLUB's fast path); other
                            sizes (64 B-4 KiB) and a cross-thread variant
                            (allocate on one thread, free on another) go to
                            ``[measured]``
``clock_read``              ``clock_gettime(CLOCK_MONOTONIC)`` (libc, vDSO)
``cs_count_read``           a relaxed load of an int64 per-CPU slot: what the
                            kernel's ``nr_context_switches_cpu()`` does. User
                            space has no such slot, so the cost of the only
                            user-space way to read one's context-switch count,
                            ``getrusage(RUSAGE_THREAD)`` (a system call), is
                            reported under ``[measured]`` for information
==========================  ==================================================

A minor page fault is measured on an anonymous private mapping (transparent
huge pages off): touch every page, ``madvise(MADV_DONTNEED)``, touch again and
time it, minus the time of touching the same pages once resident; the number
of faults is checked with ``getrusage(RUSAGE_THREAD).ru_minflt``. Its median
belongs to ``faults.minor_ns`` of a run config (not to the cost profile) and is
written under ``[measured]``.

Guards against the compiler folding a measurement away: every loop works on
memory reached through a run-time address (it escapes, so stores and calls
cannot be dropped), every kernel's result (final counter values, sums of
returned values, malloc'd addresses) is checked, and the generated assembly of
uncached twins of the kernels is inspected: on x86_64 the atomic kernels must
carry a ``lock`` prefix and the local ones must not, and the memcpy kernels
must call ``memcpy``; a mismatch raises :class:`CalibrationError`.

The CPU time other processes used during the calibration (from
``/proc/stat``) is recorded as ``[host] other_load_cpus``, with a note when
the host was busy: the figures are then inflated and widely spread.

Keys of :data:`fastring.costs.COST_KEYS` that user space cannot measure
(preempt and migrate toggles, ``copy_from_user_extra``, ``strnlen_byte``,
``context_switch``) are left out of the profile, so their defaults apply; the
file lists them in a comment.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import mmap
import os
import platform
import re
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from fastring import _toml, costs

__all__ = ["measure", "write_profile", "format_table", "main",
           "check_atomic_asm", "atomic_add_threads", "CalibrationError"]


class CalibrationError(RuntimeError):
    """A measurement could not be trusted (folded away, wrong count, ...)."""


# --------------------------------------------------------------------------
# LLVM intrinsics on raw int64 addresses
# --------------------------------------------------------------------------

_I64 = ir.IntType(64)
_I32 = ir.IntType(32)
_I8P = ir.IntType(8).as_pointer()


def _p64(builder, addr):
    return builder.inttoptr(addr, _I64.as_pointer())


@intrinsic
def _load(typingctx, addr):
    """Relaxed (monotonic) atomic load of an int64: a plain ``mov``."""
    def codegen(context, builder, sig, args):
        return builder.load_atomic(_p64(builder, args[0]), "monotonic", 8)
    return types.int64(types.int64), codegen


@intrinsic
def _store(typingctx, addr, val):
    """Relaxed (monotonic) atomic store of an int64: a plain ``mov``."""
    def codegen(context, builder, sig, args):
        builder.store_atomic(args[1], _p64(builder, args[0]), "monotonic", 8)
        return context.get_dummy_value()
    return types.void(types.int64, types.int64), codegen


@intrinsic
def _load_acq(typingctx, addr):
    """Acquire load of an int64 (pairs with :func:`_store_rel`)."""
    def codegen(context, builder, sig, args):
        return builder.load_atomic(_p64(builder, args[0]), "acquire", 8)
    return types.int64(types.int64), codegen


@intrinsic
def _store_rel(typingctx, addr, val):
    """Release store of an int64: what was written before is visible to a
    thread that sees this value with :func:`_load_acq`."""
    def codegen(context, builder, sig, args):
        builder.store_atomic(args[1], _p64(builder, args[0]), "release", 8)
        return context.get_dummy_value()
    return types.void(types.int64, types.int64), codegen


@intrinsic
def _local_add(typingctx, addr, val):
    """Non-atomic read-modify-write: relaxed load, add, relaxed store."""
    def codegen(context, builder, sig, args):
        p = _p64(builder, args[0])
        old = builder.load_atomic(p, "monotonic", 8)
        builder.store_atomic(builder.add(old, args[1]), p, "monotonic", 8)
        return context.get_dummy_value()
    return types.void(types.int64, types.int64), codegen


@intrinsic
def _atomic_add(typingctx, addr, val):
    """``atomicrmw add seq_cst``: ``lock add`` / ``lock xadd`` on x86_64."""
    def codegen(context, builder, sig, args):
        return builder.atomic_rmw("add", _p64(builder, args[0]), args[1],
                                  "seq_cst")
    return types.int64(types.int64, types.int64), codegen


@intrinsic
def _atomic_cas(typingctx, addr, expected, new):
    """``cmpxchg seq_cst``: ``lock cmpxchg``; returns the old value."""
    def codegen(context, builder, sig, args):
        pair = builder.cmpxchg(_p64(builder, args[0]), args[1], args[2],
                               "seq_cst", "seq_cst")
        return builder.extract_value(pair, 0)
    return types.int64(types.int64, types.int64, types.int64), codegen


@intrinsic
def _plain_cas(typingctx, addr, expected, new):
    """Unlocked compare-and-swap: plain load, compare, store if equal."""
    def codegen(context, builder, sig, args):
        p = _p64(builder, args[0])
        old = builder.load_atomic(p, "monotonic", 8)
        eq = builder.icmp_signed("==", old, args[1])
        with builder.if_then(eq, likely=True):
            builder.store_atomic(args[2], p, "monotonic", 8)
        return old
    return types.int64(types.int64, types.int64, types.int64), codegen


@intrinsic
def _memcpy(typingctx, dst, src, n):
    """``llvm.memcpy`` with a run-time length (a call to libc ``memcpy``)."""
    def codegen(context, builder, sig, args):
        cgutils.raw_memcpy(builder, builder.inttoptr(args[0], _I8P),
                           builder.inttoptr(args[1], _I8P), args[2], 1)
        return context.get_dummy_value()
    return types.void(types.int64, types.int64, types.int64), codegen


@intrinsic
def _clock_ns(typingctx):
    """``clock_gettime(CLOCK_MONOTONIC)`` in ns (libc, served by the vDSO)."""
    def codegen(context, builder, sig, args):
        ts_t = ir.LiteralStructType([_I64, _I64])
        fnty = ir.FunctionType(_I32, [_I32, ts_t.as_pointer()])
        fn = cgutils.get_or_insert_function(builder.module, fnty,
                                            "clock_gettime")
        ts = cgutils.alloca_once(builder, ts_t)
        builder.call(fn, [ir.Constant(_I32, 1), ts])  # CLOCK_MONOTONIC
        sec = builder.load(cgutils.gep_inbounds(builder, ts, 0, 0))
        nsec = builder.load(cgutils.gep_inbounds(builder, ts, 0, 1))
        return builder.add(builder.mul(sec, ir.Constant(_I64, 1_000_000_000)),
                           nsec)
    return types.int64(), codegen


@intrinsic
def _malloc(typingctx, size):
    """libc ``malloc``; the address comes back as an int64 (it escapes)."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_I8P, [_I64]), "malloc")
        return builder.ptrtoint(builder.call(fn, [args[0]]), _I64)
    return types.int64(types.int64), codegen


@intrinsic
def _free(typingctx, addr):
    """libc ``free``."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [_I8P]), "free")
        builder.call(fn, [builder.inttoptr(args[0], _I8P)])
        return context.get_dummy_value()
    return types.void(types.int64), codegen


@intrinsic
def _getrusage(typingctx, who, addr):
    """libc ``getrusage(who, (struct rusage *)addr)``."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_I32, [_I32, _I8P]), "getrusage")
        r = builder.call(fn, [builder.trunc(args[0], _I32),
                              builder.inttoptr(args[1], _I8P)])
        return builder.sext(r, _I64)
    return types.int64(types.int64, types.int64), codegen


# --------------------------------------------------------------------------
# Kernels: each takes int64 arguments (the last one the loop count) and
# returns (elapsed_ns, check) where check depends on every operation.
# --------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _k_local_add(base, n):
    t0 = _clock_ns()
    for _ in range(n):
        _local_add(base, 1)
        _local_add(base + 8, 1)
        _local_add(base + 16, 1)
        _local_add(base + 24, 1)
        _local_add(base + 32, 1)
        _local_add(base + 40, 1)
        _local_add(base + 48, 1)
        _local_add(base + 56, 1)
    t1 = _clock_ns()
    s = 0
    for j in range(8):
        s += _load(base + 8 * j)
    return t1 - t0, s


@njit(cache=True, nogil=True)
def _k_atomic_add(base, n):
    t0 = _clock_ns()
    for _ in range(n):
        _atomic_add(base, 1)
        _atomic_add(base + 8, 1)
        _atomic_add(base + 16, 1)
        _atomic_add(base + 24, 1)
        _atomic_add(base + 32, 1)
        _atomic_add(base + 40, 1)
        _atomic_add(base + 48, 1)
        _atomic_add(base + 56, 1)
    t1 = _clock_ns()
    s = 0
    for j in range(8):
        s += _load(base + 8 * j)
    return t1 - t0, s


@njit(cache=True, nogil=True, inline="always")
def _lcas1(addr, e):
    o = _plain_cas(addr, e, e + 1)
    return e + 1 if o == e else o


@njit(cache=True, nogil=True, inline="always")
def _acas1(addr, e):
    o = _atomic_cas(addr, e, e + 1)
    return e + 1 if o == e else o


@njit(cache=True, nogil=True)
def _k_local_cas(base, n):
    e0 = _load(base)
    e1 = _load(base + 8)
    e2 = _load(base + 16)
    e3 = _load(base + 24)
    e4 = _load(base + 32)
    e5 = _load(base + 40)
    e6 = _load(base + 48)
    e7 = _load(base + 56)
    t0 = _clock_ns()
    for _ in range(n):
        e0 = _lcas1(base, e0)
        e1 = _lcas1(base + 8, e1)
        e2 = _lcas1(base + 16, e2)
        e3 = _lcas1(base + 24, e3)
        e4 = _lcas1(base + 32, e4)
        e5 = _lcas1(base + 40, e5)
        e6 = _lcas1(base + 48, e6)
        e7 = _lcas1(base + 56, e7)
    t1 = _clock_ns()
    return t1 - t0, e0 + e1 + e2 + e3 + e4 + e5 + e6 + e7


@njit(cache=True, nogil=True)
def _k_atomic_cas(base, n):
    e0 = _load(base)
    e1 = _load(base + 8)
    e2 = _load(base + 16)
    e3 = _load(base + 24)
    e4 = _load(base + 32)
    e5 = _load(base + 40)
    e6 = _load(base + 48)
    e7 = _load(base + 56)
    t0 = _clock_ns()
    for _ in range(n):
        e0 = _acas1(base, e0)
        e1 = _acas1(base + 8, e1)
        e2 = _acas1(base + 16, e2)
        e3 = _acas1(base + 24, e3)
        e4 = _acas1(base + 32, e4)
        e5 = _acas1(base + 40, e5)
        e6 = _acas1(base + 48, e6)
        e7 = _acas1(base + 56, e7)
    t1 = _clock_ns()
    return t1 - t0, e0 + e1 + e2 + e3 + e4 + e5 + e6 + e7


@njit(cache=True, nogil=True)
def _k_contend(addr, ctl, nthreads, leader, n):
    """Two (or more) threads hammer ``lock add`` on one int64.

    ``ctl`` is a control block: ``ctl`` arrival count, ``ctl + 64`` stop flag
    (separate cache lines). All threads wait until all have arrived. The
    leader does ``n`` adds and raises the stop flag; the others keep adding
    until they see it, so the leader's adds are contended for as long as the
    others really run. Returns (elapsed_ns, adds done by this thread, adds by
    the other threads inside the leader's window): the leader sees the
    latter from the values its first and last add returned (0 for others).
    """
    _atomic_add(ctl, 1)
    while _load(ctl) < nthreads:
        pass
    done = 0
    others = 0
    t0 = _clock_ns()
    if leader:
        first = _atomic_add(addr, 1)
        last = first
        for _ in range(n - 1):
            last = _atomic_add(addr, 1)
        done = n
        t1 = _clock_ns()
        _store(ctl + 64, 1)
        others = last - first + 1 - n
    else:
        while _load(ctl + 64) == 0:
            for _ in range(64):
                _atomic_add(addr, 1)
            done += 64
        t1 = _clock_ns()
    return t1 - t0, done, others


@njit(cache=True, nogil=True)
def _k_clock(n):
    t0 = _clock_ns()
    s = 0
    last = t0
    for _ in range(n):
        now = _clock_ns()
        if now < last:          # CLOCK_MONOTONIC never goes back
            s -= 1 << 40
        s += now - last
        last = now
    t1 = _clock_ns()
    return t1 - t0, s


@njit(cache=True, nogil=True)
def _k_slot_read(base, n):
    s = 0
    t0 = _clock_ns()
    for _ in range(n):
        s += _load(base)
        s += _load(base + 64)
        s += _load(base + 128)
        s += _load(base + 192)
        s += _load(base + 256)
        s += _load(base + 320)
        s += _load(base + 384)
        s += _load(base + 448)
    t1 = _clock_ns()
    return t1 - t0, s


@njit(cache=True, nogil=True)
def _k_getrusage(buf, n):
    s = 0
    fails = 0
    t0 = _clock_ns()
    for _ in range(n):
        if _getrusage(1, buf) != 0:      # RUSAGE_THREAD
            fails += 1
        # struct rusage on x86_64/aarch64 Linux: two timevals, then 14 longs;
        # ru_nvcsw and ru_nivcsw are the 13th and 14th (offsets 128, 136).
        s += _load(buf + 128) + _load(buf + 136)
    t1 = _clock_ns()
    return t1 - t0, s - fails * (1 << 50)


@njit(cache=True, nogil=True)
def _k_malloc_free(size, n):
    s = 0
    t0 = _clock_ns()
    for _ in range(n):
        p = _malloc(size)
        if p == 0:
            s -= 1 << 60
        s ^= p
        _free(p)
    t1 = _clock_ns()
    return t1 - t0, s


@njit(cache=True, nogil=True)
def _k_malloc_producer(size, ptrs, k, ctl, rounds):
    """Round r: wait for the consumer to be done with round r-1, malloc ``k``
    blocks into ``ptrs``, hand them over. Returns (ns spent in malloc, NULLs).
    """
    busy = 0
    nulls = 0
    for r in range(rounds):
        while _load_acq(ctl) != 2 * r:
            pass
        t0 = _clock_ns()
        for i in range(k):
            p = _malloc(size)
            if p == 0:
                nulls += 1
            _store(ptrs + 8 * i, p)
        busy += _clock_ns() - t0
        _store_rel(ctl, 2 * r + 1)
    return busy, nulls


@njit(cache=True, nogil=True)
def _k_free_consumer(ptrs, k, ctl, rounds):
    """Round r: wait for the producer's blocks, free them all, hand the slots
    back. Returns (ns spent in free, xor of the freed addresses)."""
    busy = 0
    s = 0
    for r in range(rounds):
        while _load_acq(ctl) != 2 * r + 1:
            pass
        t0 = _clock_ns()
        for i in range(k):
            p = _load(ptrs + 8 * i)
            s ^= p
            _free(p)
        busy += _clock_ns() - t0
        _store_rel(ctl, 2 * r + 2)
    return busy, s


@njit(cache=True, nogil=True)
def _k_malloc_free_batches(size, ptrs, k, rounds):
    """The same batches (malloc ``k``, then free ``k``) on one thread."""
    busy = 0
    s = 0
    for _ in range(rounds):
        t0 = _clock_ns()
        for i in range(k):
            p = _malloc(size)
            if p == 0:
                s -= 1 << 60
            _store(ptrs + 8 * i, p)
        t1 = _clock_ns()
        for i in range(k):
            p = _load(ptrs + 8 * i)
            s ^= p
            _free(p)
        busy += t1 - t0 + _clock_ns() - t1
    return busy, s


@njit(cache=True, nogil=True)
def _k_memcpy_hot(dst, src, size, n):
    t0 = _clock_ns()
    for i in range(n):
        off = (i & 7) << 6
        _memcpy(dst + off, src + off, size)
    t1 = _clock_ns()
    return t1 - t0, _load(dst + (((n - 1) & 7) << 6))


@njit(cache=True, nogil=True)
def _k_memcpy_cold(dst, src, mask, fill, line0, size, n):
    """Copy ``size`` bytes ``n`` times between two arenas of ``mask + 1``
    cache lines (plus slack), at lines visited in the pseudo-random order of a
    full-period LCG mod ``mask + 1``: no line is reused until all were, and
    no stride a prefetcher could follow.

    The next line also depends on the first 8 bytes just copied (the arenas
    hold the int64 ``fill`` everywhere, so they add 0, but the compiler cannot
    know): each copy waits for the previous one, so the cache-miss latency of
    an isolated copy is exposed instead of overlapped.
    """
    line = line0
    t0 = _clock_ns()
    for _ in range(n):
        off = line << 6
        _memcpy(dst + off, src + off, size)
        line = (line * 6364136223846793005 + 1442695040888963407
                + (_load(dst + off) - fill)) & mask
    t1 = _clock_ns()
    return t1 - t0, line


@njit(cache=True, nogil=True)
def _k_touch(addr, pagesize, n):
    t0 = _clock_ns()
    for i in range(n):
        _store(addr + i * pagesize, i + 1)
    t1 = _clock_ns()
    s = 0
    for i in range(n):
        s += _load(addr + i * pagesize)
    return t1 - t0, s


# --------------------------------------------------------------------------
# Compiler guards
# --------------------------------------------------------------------------

_LOCKED = re.compile(r"\block\b\s*(x?add[bwlq]?|inc[bwlq]?|sub[bwlq]?|"
                     r"cmpxchg[bwlq]?|x?or[bwlq]?)\b")


def _asm(kernel) -> str:
    """Assembly of an uncached twin of ``kernel`` (numba does not keep the
    assembly of functions loaded from its cache)."""
    twin = njit(nogil=True)(kernel.py_func)
    nargs = kernel.py_func.__code__.co_argcount
    twin.compile((types.int64,) * nargs)
    return twin.inspect_asm(twin.signatures[0])


def check_atomic_asm() -> dict[str, str]:
    """Check the generated x86_64 code: the atomic kernels carry a ``lock``
    prefix, the local ones do not, and the memcpy kernels call ``memcpy``.

    Returns ``{kernel: what was found}``; raises :class:`CalibrationError` on
    any mismatch. Only meaningful on x86_64 (raises ``NotImplementedError``
    elsewhere).
    """
    if platform.machine().lower() not in ("x86_64", "amd64"):
        raise NotImplementedError(
            f"lock-prefix check is x86_64 only (this is {platform.machine()})")
    found = {}
    problems = []
    add_ops = ("add", "inc")      # an add of 1 is emitted as `lock inc`
    for name, kernel, want in (("atomic_add", _k_atomic_add, add_ops),
                               ("atomic_add_contended", _k_contend, add_ops),
                               ("atomic_cmpxchg", _k_atomic_cas, ("cmpxchg",))):
        ops = [m.group(1) for m in _LOCKED.finditer(_asm(kernel))]
        hits = [op for op in ops if any(w in op for w in want)]
        want_op = "/".join(want)
        if not hits:
            problems.append(f"{name}: no 'lock {want_op}' in the generated "
                            f"code (locked ops found: {ops})")
        found[name] = f"lock {hits[0]}" if hits else "MISSING"
    for name, kernel in (("local_add", _k_local_add),
                         ("local_cmpxchg", _k_local_cas)):
        text = _asm(kernel)
        ops = [m.group(1) for m in _LOCKED.finditer(text)]
        if ops:
            problems.append(f"{name}: unexpected lock prefix ({ops})")
        if "cmpxchg" in text:
            problems.append(f"{name}: unexpected cmpxchg instruction")
        found[name] = "no lock" if not ops else f"lock {ops[0]}"
    for name, kernel in (("memcpy", _k_memcpy_hot),
                         ("memcpy_cold", _k_memcpy_cold)):
        ok = "memcpy" in _asm(kernel)
        if not ok:
            problems.append(f"{name}: the loop does not call memcpy")
        found[name] = "calls memcpy" if ok else "MISSING"
    if problems:
        raise CalibrationError("compiled kernels do not do what they measure: "
                               + "; ".join(problems))
    return found


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def _aligned(nbytes: int, align: int = 4096):
    """A zeroed numpy buffer and the address of its ``align``-aligned start."""
    raw = np.zeros(nbytes + align, dtype=np.uint8)
    base = raw.ctypes.data
    addr = (base + align - 1) & ~(align - 1)
    return raw, addr, addr - base


def _stats(samples) -> dict:
    a = np.asarray(samples, dtype=np.float64)
    return {"median": float(np.median(a)),
            "p25": float(np.percentile(a, 25)),
            "p75": float(np.percentile(a, 75)),
            "min": float(a.min()), "max": float(a.max()),
            "repeats": int(a.size)}


def _pick_n(run, target_ns: float, n_min: int = 16,
            n_max: int = 1 << 26) -> int:
    """Loop count so that one run takes about ``target_ns``."""
    n = n_min
    while True:
        dt = run(n)
        if dt >= 200_000 or n >= n_max:   # 0.2 ms pilot is enough to scale
            break
        n *= 8
    per_n = max(dt / n, 1e-3)
    return int(min(max(target_ns / per_n, n_min), n_max))


def _series(kernel, args, ops_per_n: int, repeats: int, target_ns: float,
            check=None, warmup: int = 1):
    """Median-ready samples (ns per op) of ``kernel(*args, n)``."""
    def run(n):
        dt, chk = kernel(*args, n)
        if check is not None:
            check(n, chk)
        return dt
    n = _pick_n(run, target_ns)
    for _ in range(warmup):
        run(n)
    return [run(n) / (n * ops_per_n) for _ in range(repeats)]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, val = line.partition(":")
            if key.strip() in ("model name", "Processor", "cpu model"):
                return val.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _host() -> dict:
    import llvmlite
    import numba
    info = {"cpu_model": _cpu_model(),
            "cores": os.cpu_count() or 1,
            "machine": platform.machine(),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "numba": numba.__version__,
            "llvmlite": llvmlite.__version__,
            "numpy": np.__version__,
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(
                timespec="seconds")}
    try:
        info["clocksource"] = Path(
            "/sys/devices/system/clocksource/clocksource0/"
            "current_clocksource").read_text().strip()
    except OSError:
        pass
    return info


def _cpu_seconds():
    """(CPU seconds all processes have used, CPU seconds this process has
    used), from /proc/stat and getrusage; None where /proc is missing."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal ...
    ticks = [int(x) for x in fields[1:9]]
    busy = (sum(ticks[:3]) + sum(ticks[5:8])) / os.sysconf("SC_CLK_TCK")
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return busy, ru.ru_utime + ru.ru_stime


# What each measured key stands for (printed in the table and the file).
_WHAT = {
    "local_add": "relaxed load+add+store of an int64 (no lock)",
    "atomic_add": "lock add, one thread",
    "atomic_add_contended": "lock add on one int64 another thread hammers",
    "local_cmpxchg": "plain load, compare, store (no cmpxchg, no lock)",
    "atomic_cmpxchg": "lock cmpxchg, one thread",
    "memcpy_call": "libc memcpy, fixed part of the fit 16 B-4 KiB, in cache",
    "memcpy_byte": "libc memcpy, per byte of the fit, in cache",
    "kmalloc_kfree": "libc malloc(256)+free, same thread",
    "clock_read": "clock_gettime(CLOCK_MONOTONIC) (vDSO)",
    "cs_count_read": "relaxed load of a per-CPU int64 slot "
                     "(as nr_context_switches_cpu())",
}

_NOT_MEASURABLE = {
    "preempt_off": "kernel-only (preempt_disable), no user-space analogue",
    "preempt_on": "kernel-only (preempt_enable), no user-space analogue",
    "migrate_off": "kernel-only (migrate_disable), no user-space analogue",
    "migrate_on": "kernel-only (migrate_enable), no user-space analogue",
    "copy_from_user_extra": "kernel-only (access_ok, STAC/CLAC)",
    "strnlen_byte": "strnlen_user is kernel-only; not measured",
    "context_switch": "needs a scheduler ping-pong benchmark; not measured",
}

_MEMCPY_SIZES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
_MALLOC_SIZES = (64, 128, 256, 512, 1024, 2048, 4096)


def _fit_line(sizes, times):
    """Weighted (1/t) least squares ``t = call + byte * size``."""
    x = np.asarray(sizes, dtype=np.float64)
    y = np.asarray(times, dtype=np.float64)
    w = 1.0 / np.maximum(y, 1e-9)
    byte, call = np.polyfit(x, y, 1, w=w)
    return float(call), float(byte)


def _run_threads(targets):
    """Run callables on their own threads at once; return their results."""
    out = [None] * len(targets)
    errs = []

    def wrap(i, fn):
        try:
            out[i] = fn()
        except BaseException as exc:      # re-raised in the caller
            errs.append(exc)
    ths = [threading.Thread(target=wrap, args=(i, fn))
           for i, fn in enumerate(targets)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    if errs:
        raise errs[0]
    return out


def atomic_add_threads(n: int, threads: int = 2) -> tuple[int, int]:
    """``threads`` threads each do ``n`` ``lock add`` of 1 on one int64 at
    once; returns ``(final value, threads * n)`` (they must be equal)."""
    raw, addr, off = _aligned(64, 64)
    ctl_raw, ctl, _ = _aligned(256, 64)
    # Every thread is a "leader" that does exactly n adds.
    res = _run_threads([lambda: _k_contend(addr, ctl, threads, True, n)
                        for _ in range(threads)])
    total = int(raw[off:off + 8].view(np.int64)[0])
    if any(done != n for _, done, _ in res):
        raise CalibrationError(f"threads did {[r[1] for r in res]} adds, "
                               f"not {n} each")
    del ctl_raw
    return total, threads * n


# --------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------

def _measure_counters(repeats, target, res):
    raw, addr, off = _aligned(64, 64)
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

    for key, kernel in (("local_add", _k_local_add),
                        ("atomic_add", _k_atomic_add),
                        ("local_cmpxchg", _k_local_cas),
                        ("atomic_cmpxchg", _k_atomic_cas)):
        view[:] = 0
        res["costs"][key] = _stats(_series(kernel, (addr,), 8, repeats,
                                           target, exact(key)))


def _measure_contended(repeats, target, res):
    ncpu = os.cpu_count() or 1
    if ncpu < 2:
        res["unmeasured"]["atomic_add_contended"] = (
            "single-CPU host: no second CPU to contend with")
        res["notes"].append("atomic_add_contended skipped: os.cpu_count() == 1")
        return
    raw, addr, off = _aligned(64, 64)
    ctl_raw, ctl, coff = _aligned(256, 64)
    cell = raw[off:off + 8].view(np.int64)
    ctlv = ctl_raw[coff:coff + 128].view(np.int64)

    def once(n):
        cell[:] = 0
        ctlv[:] = 0
        (dt0, d0, inside), (dt1, d1, _) = _run_threads([
            lambda: _k_contend(addr, ctl, 2, True, n),
            lambda: _k_contend(addr, ctl, 2, False, n)])
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
    res["costs"]["atomic_add_contended"] = _stats(lead)
    res["measured"]["atomic_add_contended_other_thread"] = dict(
        _stats(foll), what="the same, seen from the second thread")
    del ctl_raw


def _measure_memcpy(repeats, target, quick, res):
    raw, base, _ = _aligned(32768, 4096)
    raw[:] = np.arange(raw.size, dtype=np.uint64).astype(np.uint8)
    src = base
    dst = base + 16384 + 2112      # no 4 KiB aliasing between src and dst
    ns = {s: _pick_n(lambda n, s=s: _k_memcpy_hot(dst, src, s, n)[0],
                     target) for s in _MEMCPY_SIZES}
    hot = {s: [] for s in _MEMCPY_SIZES}
    fits = []
    for _ in range(repeats):
        row = []
        for s in _MEMCPY_SIZES:
            dt, _chk = _k_memcpy_hot(dst, src, s, ns[s])
            hot[s].append(dt / ns[s])
            row.append(dt / ns[s])
        fits.append(_fit_line(_MEMCPY_SIZES, row))
    _check_fit(res, "memcpy_call", "memcpy_byte", fits, "in-cache")
    for s in _MEMCPY_SIZES:
        res["measured"][f"memcpy_hot_{s}"] = dict(
            _stats(hot[s]), what=f"memcpy of {s} B, in cache, per call")

    # Out of cache: two arenas, visited in pseudo-random line order.
    arena_mb = 64 if quick else 256
    half = (arena_mb << 20) // 2               # a power of two
    slack = 8192                               # a copy may run past the end
    araw, abase, _ = _aligned(2 * (half + slack), 4096)
    araw[:] = 1                                # fault everything in now
    fill = 0x0101010101010101
    mask = half // 64 - 1
    asrc, adst = abase, abase + half + slack + 2112
    line = 0
    cold = {s: [] for s in _MEMCPY_SIZES}
    cfits = []
    cold_target = target / 2
    cn = {}
    for s in _MEMCPY_SIZES:
        dt, line = _k_memcpy_cold(adst, asrc, mask, fill, line, s, 256)
        cn[s] = int(min(max(cold_target / max(dt / 256, 1.0), 64), 200_000))
    for _ in range(repeats):
        row = []
        for s in _MEMCPY_SIZES:
            dt, line = _k_memcpy_cold(adst, asrc, mask, fill, line, s,
                                      cn[s])
            cold[s].append(dt / cn[s])
            row.append(dt / cn[s])
        cfits.append(_fit_line(_MEMCPY_SIZES, row))
    calls = [c for c, _ in cfits]
    bytes_ = [b for _, b in cfits]
    res["measured"]["memcpy_cold_call"] = dict(
        _stats(calls), what=f"memcpy fit, fixed part, out of cache "
                            f"({arena_mb} MiB arena)")
    res["measured"]["memcpy_cold_byte"] = dict(
        _stats(bytes_), what="memcpy fit, per byte, out of cache")
    for s in _MEMCPY_SIZES:
        res["measured"][f"memcpy_cold_{s}"] = dict(
            _stats(cold[s]), what=f"memcpy of {s} B, out of cache, per call")
    del araw


def _check_fit(res, call_key, byte_key, fits, label):
    calls = [c for c, _ in fits]
    bytes_ = [b for _, b in fits]
    st_call = _stats(calls)
    if st_call["median"] < 0:
        res["notes"].append(
            f"{label} memcpy fit gave a negative fixed cost "
            f"({st_call['median']:.2f} ns); clamped to 0")
        st_call = {k: (max(v, 0.0) if k != "repeats" else v)
                   for k, v in st_call.items()}
    res["costs"][call_key] = st_call
    res["costs"][byte_key] = _stats(bytes_)


def _measure_malloc(repeats, target, res):
    for s in _MALLOC_SIZES:
        def check(n, chk):
            if chk < 0:
                raise CalibrationError("malloc returned NULL")
        st = _stats(_series(_k_malloc_free, (s,), 1, repeats, target, check))
        if s == 256:
            res["costs"]["kmalloc_kfree"] = st
        res["measured"][f"malloc_free_{s}"] = dict(
            st, what=f"malloc({s})+free, same thread")

    # Batches of k blocks (small enough that glibc does not trim its heap
    # after each one): malloc on one thread, free on another, handed over
    # through a flag; each thread times only its own malloc / free loops.
    # The same batches on one thread are the fair comparison.
    k = 128
    praw, ptrs, _ = _aligned(8 * k, 64)
    craw, ctl, coff = _aligned(64, 64)
    ctlv = craw[coff:coff + 8].view(np.int64)

    def cross(rounds):
        ctlv[:] = 0
        (ta, nulls), (tb, _) = _run_threads([
            lambda: _k_malloc_producer(256, ptrs, k, ctl, rounds),
            lambda: _k_free_consumer(ptrs, k, ctl, rounds)])
        if nulls:
            raise CalibrationError("malloc returned NULL")
        return (ta + tb) / (rounds * k)

    def same(rounds):
        dt, chk = _k_malloc_free_batches(256, ptrs, k, rounds)
        if chk < 0:
            raise CalibrationError("malloc returned NULL")
        return dt / (rounds * k)

    per = max(same(64), 1.0)
    rounds = int(min(max(target / (per * k), 8), 100_000))
    same(rounds)
    cross(rounds)
    same_s, cross_s = [], []
    for _ in range(repeats):
        same_s.append(same(rounds))
        cross_s.append(cross(rounds))
    res["measured"]["malloc_free_256_batch"] = dict(
        _stats(same_s), what=f"malloc(256) x{k}, then free x{k}, same thread")
    res["measured"]["malloc_free_256_cross_thread"] = dict(
        _stats(cross_s), what=f"malloc(256) x{k} on one thread, free x{k} "
                              f"on another")
    del praw, craw


def _measure_clock_and_cs(repeats, target, res):
    def mono(n, chk):
        if chk < 0:
            raise CalibrationError("CLOCK_MONOTONIC went backwards")
    res["costs"]["clock_read"] = _stats(_series(_k_clock, (), 1, repeats,
                                                target, mono))
    raw, base, off = _aligned(512, 64)
    slots = raw[off:off + 512].view(np.int64)
    slots[::8] = np.arange(1, 9)
    expect = int(slots.sum())

    def sums(n, chk):
        if chk != expect * n:
            raise CalibrationError("per-CPU slot reads were folded away")
    res["costs"]["cs_count_read"] = _stats(
        _series(_k_slot_read, (base,), 8, repeats, target, sums))
    braw, buf, _ = _aligned(256, 64)

    def ok(n, chk):
        if chk < 0:
            raise CalibrationError("getrusage(RUSAGE_THREAD) failed")
    res["measured"]["getrusage_cs_read"] = dict(
        _stats(_series(_k_getrusage, (buf,), 1, repeats, target / 4, ok)),
        what="getrusage(RUSAGE_THREAD) -> ru_nvcsw+ru_nivcsw (a syscall)")


def _measure_minor_fault(repeats, quick, res):
    page = mmap.PAGESIZE
    npages = 256 if quick else 2048
    size = npages * page
    mm = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                   prot=mmap.PROT_READ | mmap.PROT_WRITE)
    arr = None
    try:
        if hasattr(mmap, "MADV_NOHUGEPAGE"):
            mm.madvise(mmap.MADV_NOHUGEPAGE)
        arr = np.frombuffer(mm, dtype=np.uint8)
        addr = arr.ctypes.data
        _k_touch(addr, page, npages)                   # fault in, compile
        samples = []
        bad = []
        for _ in range(repeats + 1):
            mm.madvise(mmap.MADV_DONTNEED)
            r0 = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
            dt, _ = _k_touch(addr, page, npages)
            r1 = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
            base_dt, _ = _k_touch(addr, page, npages)   # resident: no fault
            faults = r1 - r0
            if not npages <= faults <= npages + max(8, npages // 50):
                bad.append(faults)
                continue
            samples.append((dt - base_dt) / faults)
        samples = samples[1:] if len(samples) > repeats else samples
    finally:
        del arr
        mm.close()
    if bad or not samples:
        res["notes"].append(
            f"minor fault not reported: ru_minflt rose by {bad} instead of "
            f"{npages} per pass (transparent huge pages or fault-around?)")
        return
    res["measured"]["minor_fault"] = dict(
        _stats(samples), what=f"anonymous page fault after "
                              f"MADV_DONTNEED ({npages} pages/pass, checked "
                              f"with ru_minflt); goes to faults.minor_ns")


def measure(repeats: int | None = None, quick: bool = False) -> dict:
    """Measure the host's primitive costs. Returns a structured dict:

    ``costs``       ``{cost key: stats}`` for measured keys of
                    :data:`fastring.costs.COST_KEYS`
    ``measured``    ``{name: stats}`` for extra figures (minor fault, memcpy
                    out of cache and per size, malloc sizes and cross-thread,
                    getrusage, ...), not part of the cost profile
    ``unmeasured``  ``{cost key: reason}`` for keys left to the default
    ``asm``         what the lock-prefix check found (x86_64)
    ``notes``       list of remarks; ``host`` host description;
    ``params``      repeats, quick, elapsed seconds

    where stats is ``{"median", "p25", "p75", "min", "max", "repeats"}``
    in ns (plus ``"what"`` for ``measured`` entries). ``quick`` takes fewer,
    shorter runs and a smaller out-of-cache arena.
    """
    if repeats is None:
        repeats = 7 if quick else 31
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    target = 300_000.0 if quick else 2_000_000.0   # ns per run
    t_start = time.perf_counter()
    res = {"costs": {}, "measured": {}, "unmeasured": dict(_NOT_MEASURABLE),
           "asm": {}, "notes": [], "host": _host(),
           "params": {"repeats": repeats, "quick": bool(quick)}}
    busy0 = _cpu_seconds()
    try:
        res["asm"] = check_atomic_asm()
    except NotImplementedError as exc:
        res["notes"].append(str(exc))
    _measure_counters(repeats, target, res)
    _measure_contended(repeats, target, res)
    _measure_clock_and_cs(repeats, target, res)
    _measure_malloc(repeats, target, res)
    _measure_memcpy(repeats, target, quick, res)
    _measure_minor_fault(repeats, quick, res)
    for key, st in res["costs"].items():
        if key not in costs.COST_KEYS:
            raise CalibrationError(f"internal: {key} is not a cost key")
        if not (math.isfinite(st["median"]) and st["median"] >= 0):
            raise CalibrationError(f"{key}: bad measurement {st}")
        st.setdefault("what", _WHAT.get(key, ""))
    wall = time.perf_counter() - t_start
    res["params"]["elapsed_s"] = round(wall, 3)
    busy1 = _cpu_seconds()
    if busy0 is not None and busy1 is not None and wall > 0:
        others = ((busy1[0] - busy0[0]) - (busy1[1] - busy0[1])) / wall
        res["host"]["other_load_cpus"] = round(max(others, 0.0), 2)
        if others > 0.25:
            res["notes"].append(
                f"other processes kept {others:.2f} CPUs busy on average "
                f"during calibration: figures may be inflated and spread "
                f"wide; rerun on an idle host for a clean profile")
    return res


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def _spread_inline(st: dict) -> str:
    return "{ " + ", ".join(f"{k} = {_toml.value(st[k])}" for k in
                            ("p25", "p75", "min", "max", "repeats")) + " }"


def write_profile(results: dict, path) -> Path:
    """Write ``results`` (from :func:`measure`) as a cost profile TOML file.

    ``[costs]`` holds the medians (ns) of the measured cost keys, in
    :data:`fastring.costs.COST_KEYS` order; keys not measured are listed in a
    comment (their defaults apply). ``[spread]``, ``[measured]`` and
    ``[host]`` are informational. The file is written under a temporary name
    and renamed into place when complete.
    """
    path = Path(path)
    measured = results.get("costs", {})
    for key in measured:
        if key not in costs.COST_KEYS:
            raise ValueError(f"{key!r} is not a cost key "
                             f"(known: {', '.join(costs.COST_KEYS)})")
    params = results.get("params", {})
    out = ["# fastring cost profile measured by `fastring calibrate` "
           f"(repeats={params.get('repeats')}, "
           f"quick={str(params.get('quick', False)).lower()}).",
           "# Load it with costs.profile = \"<this file>\". Values are "
           "medians in ns.", ""]
    missing = [k for k in costs.COST_KEYS if k not in measured]
    if missing:
        out.append("# Not measured (the built-in default applies):")
        reasons = results.get("unmeasured", {})
        for k in missing:
            out.append(f"#   {k} = {costs.DEFAULT[k]!r}  "
                       f"({reasons.get(k, 'not measured')})")
        out.append("")
    out.append("[costs]")
    for k in costs.COST_KEYS:
        if k in measured:
            what = measured[k].get("what") or _WHAT.get(k, "")
            out.append(f"{k} = {_toml.value(float(measured[k]['median']))}"
                       + (f"  # {what}" if what else ""))
    out += ["", "[spread]",
            "# Spread of the runs behind each median (ns): inter-quartile "
            "range, min, max."]
    for k in costs.COST_KEYS:
        if k in measured:
            out.append(f"{k} = {_spread_inline(measured[k])}")
    extra = results.get("measured", {})
    for name, st in extra.items():
        out.append(f"{name} = {_spread_inline(st)}")
    if extra:
        out += ["", "[measured]",
                "# Medians (ns) of figures that are not cost-profile keys. "
                "minor_fault belongs to", "# faults.minor_ns of a run "
                "config."]
        for name, st in extra.items():
            what = st.get("what", "")
            out.append(f"{name} = {_toml.value(float(st['median']))}"
                       + (f"  # {what}" if what else ""))
    out += ["", "[host]"]
    host = dict(results.get("host", {}))
    if "elapsed_s" in params:
        host["calibration_s"] = params["elapsed_s"]
    for k, v in host.items():
        out.append(f"{k} = {_toml.value(v)}")
    text = "\n".join(out) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.1:
        return f"{v:.2f}"
    return f"{v:.4f}"


def format_table(results: dict) -> str:
    """The measured figures as a text table: median, spread (p25-p75 and
    min-max), the built-in default beside it and the ratio measured/default;
    then the extra figures and the keys left to their default."""
    rows = [("cost key", "median ns", "p25-p75", "min-max", "default",
             "ratio")]
    for k in costs.COST_KEYS:
        st = results.get("costs", {}).get(k)
        if st is None:
            continue
        d = costs.DEFAULT[k]
        rows.append((k, _fmt(st["median"]),
                     f"{_fmt(st['p25'])}-{_fmt(st['p75'])}",
                     f"{_fmt(st['min'])}-{_fmt(st['max'])}", _fmt(d),
                     f"{st['median'] / d:.2f}x" if d else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(r):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths)))
    out = [line(rows[0]), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in rows[1:]]
    extra = results.get("measured", {})
    if extra:
        out += ["", "other figures (not cost keys):"]
        erows = [(n, _fmt(st["median"]),
                  f"{_fmt(st['p25'])}-{_fmt(st['p75'])}",
                  f"{_fmt(st['min'])}-{_fmt(st['max'])}", st.get("what", ""))
                 for n, st in extra.items()]
        ew = [max(len(r[i]) for r in erows) for i in range(4)]
        for r in erows:
            out.append("  ".join([r[0].ljust(ew[0])]
                                 + [r[i].rjust(ew[i]) for i in (1, 2, 3)]
                                 + [r[4]]))
    unmeasured = [k for k in costs.COST_KEYS
                  if k not in results.get("costs", {})]
    if unmeasured:
        out += ["", "left to the default (not measured): "
                + ", ".join(unmeasured)]
    for note in results.get("notes", []):
        out.append(f"note: {note}")
    return "\n".join(out)


def main(argv=None) -> int:
    """``fastring calibrate [--out FILE] [--quick] [--repeats N]``."""
    ap = argparse.ArgumentParser(
        prog="fastring calibrate",
        description="Measure primitive costs (atomics, cmpxchg, memcpy, "
                    "malloc+free, clock read, minor fault) on this host and "
                    "write a cost profile that costs.profile = FILE loads.")
    ap.add_argument("--out", default="calibrated.toml", metavar="FILE",
                    help="profile file to write (default: %(default)s)")
    ap.add_argument("--quick", action="store_true",
                    help="fewer, shorter runs: rougher figures in seconds")
    ap.add_argument("--repeats", type=int, default=None, metavar="N",
                    help="runs per figure, median taken (default: 31, "
                         "7 with --quick)")
    args = ap.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        ap.error("--repeats must be >= 1")
    try:
        results = measure(repeats=args.repeats, quick=args.quick)
    except CalibrationError as exc:
        print(f"fastring calibrate: {exc}", file=sys.stderr)
        return 1
    print(format_table(results))
    path = write_profile(results, args.out)
    print()
    print(f"wrote {path} ({results['params']['elapsed_s']:.1f} s); use it "
          f"with costs.profile = \"{path}\"")
    mf = results["measured"].get("minor_fault")
    if mf is not None:
        print(f"hint: minor page fault median {mf['median']:.0f} ns: set "
              f"faults.minor_ns = {round(mf['median'])} in your run config "
              f"(--set faults.minor_ns={round(mf['median'])})")
    return 0


if __name__ == "__main__":
    # Run through the importable module so numba's cache is shared with
    # `fastring calibrate`.
    from fastring.calibrate import main as _main
    sys.exit(_main())
