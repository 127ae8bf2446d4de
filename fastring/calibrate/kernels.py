"""The compiled loops ``fastring calibrate`` times.

Each kernel takes int64 arguments (the last one the loop count), times its
loop with ``clock_gettime`` from inside the compiled code and returns
``(elapsed_ns, check)``, where ``check`` depends on every operation so that
nothing can be folded away. The primitives are the raw-address intrinsics of
:mod:`fastring._intrinsics`.
"""
from __future__ import annotations

from numba import njit

from fastring._intrinsics import (addr_atomic_add, addr_atomic_cas,
                                  addr_load, addr_load_acquire,
                                  addr_local_add, addr_memcpy,
                                  addr_plain_cas, addr_store,
                                  addr_store_release, libc_free,
                                  libc_getrusage, libc_malloc, libc_read,
                                  libc_write, monotonic_ns)


@njit(cache=True, nogil=True, inline="always")
def _add1(addr, locked):
    if locked:
        addr_atomic_add(addr, 1)
    else:
        addr_local_add(addr, 1)


@njit(cache=True, nogil=True, inline="always")
def _adds(base, n, locked):
    """8 counters in one cache line, unrolled: the throughput cost of one
    add (what a probe pays), not store-forwarding latency."""
    t0 = monotonic_ns()
    for _ in range(n):
        _add1(base, locked)
        _add1(base + 8, locked)
        _add1(base + 16, locked)
        _add1(base + 24, locked)
        _add1(base + 32, locked)
        _add1(base + 40, locked)
        _add1(base + 48, locked)
        _add1(base + 56, locked)
    t1 = monotonic_ns()
    s = 0
    for j in range(8):
        s += addr_load(base + 8 * j)
    return t1 - t0, s


@njit(cache=True, nogil=True, inline="always")
def _cas1(addr, e, locked):
    if locked:
        o = addr_atomic_cas(addr, e, e + 1)
    else:
        o = addr_plain_cas(addr, e, e + 1)
    return e + 1 if o == e else o


@njit(cache=True, nogil=True, inline="always")
def _cases(base, n, locked):
    e0 = addr_load(base)
    e1 = addr_load(base + 8)
    e2 = addr_load(base + 16)
    e3 = addr_load(base + 24)
    e4 = addr_load(base + 32)
    e5 = addr_load(base + 40)
    e6 = addr_load(base + 48)
    e7 = addr_load(base + 56)
    t0 = monotonic_ns()
    for _ in range(n):
        e0 = _cas1(base, e0, locked)
        e1 = _cas1(base + 8, e1, locked)
        e2 = _cas1(base + 16, e2, locked)
        e3 = _cas1(base + 24, e3, locked)
        e4 = _cas1(base + 32, e4, locked)
        e5 = _cas1(base + 40, e5, locked)
        e6 = _cas1(base + 48, e6, locked)
        e7 = _cas1(base + 56, e7, locked)
    t1 = monotonic_ns()
    return t1 - t0, e0 + e1 + e2 + e3 + e4 + e5 + e6 + e7


def _entry(cas: bool, locked: bool):
    """An entry point ``(base, n)`` timing adds or cmpxchgs, locked or not,
    with both flags compile-time constants (closure cells, which numba's
    cache keys on): the compiled code holds only the instruction being
    measured (check_atomic_asm verifies it)."""
    @njit(cache=True, nogil=True)
    def kernel(base, n):
        if cas:
            return _cases(base, n, locked)
        return _adds(base, n, locked)
    return kernel


k_local_add = _entry(cas=False, locked=False)
k_atomic_add = _entry(cas=False, locked=True)
k_local_cas = _entry(cas=True, locked=False)
k_atomic_cas = _entry(cas=True, locked=True)


@njit(cache=True, nogil=True)
def k_contend(addr, ctl, nthreads, leader, n):
    """Two (or more) threads hammer ``lock add`` on one int64.

    ``ctl`` is a control block: ``ctl`` arrival count, ``ctl + 64`` stop flag
    (separate cache lines). All threads wait until all have arrived. The
    leader does ``n`` adds and raises the stop flag; the others keep adding
    until they see it, so the leader's adds are contended for as long as the
    others really run. Returns (elapsed_ns, adds done by this thread, adds by
    the other threads inside the leader's window): the leader sees the
    latter from the values its first and last add returned (0 for others).
    """
    addr_atomic_add(ctl, 1)
    while addr_load(ctl) < nthreads:
        pass
    done = 0
    others = 0
    t0 = monotonic_ns()
    if leader:
        first = addr_atomic_add(addr, 1)
        last = first
        for _ in range(n - 1):
            last = addr_atomic_add(addr, 1)
        done = n
        t1 = monotonic_ns()
        addr_store(ctl + 64, 1)
        others = last - first + 1 - n
    else:
        while addr_load(ctl + 64) == 0:
            for _ in range(64):
                addr_atomic_add(addr, 1)
            done += 64
        t1 = monotonic_ns()
    return t1 - t0, done, others


@njit(cache=True, nogil=True)
def k_clock(n):
    t0 = monotonic_ns()
    s = 0
    last = t0
    for _ in range(n):
        now = monotonic_ns()
        if now < last:          # CLOCK_MONOTONIC never goes back
            s -= 1 << 40
        s += now - last
        last = now
    t1 = monotonic_ns()
    return t1 - t0, s


@njit(cache=True, nogil=True)
def k_slot_read(base, n):
    s = 0
    t0 = monotonic_ns()
    for _ in range(n):
        s += addr_load(base)
        s += addr_load(base + 64)
        s += addr_load(base + 128)
        s += addr_load(base + 192)
        s += addr_load(base + 256)
        s += addr_load(base + 320)
        s += addr_load(base + 384)
        s += addr_load(base + 448)
    t1 = monotonic_ns()
    return t1 - t0, s


@njit(cache=True, nogil=True)
def k_getrusage(buf, n):
    s = 0
    fails = 0
    t0 = monotonic_ns()
    for _ in range(n):
        if libc_getrusage(1, buf) != 0:      # RUSAGE_THREAD
            fails += 1
        # struct rusage on x86_64/aarch64 Linux: two timevals, then 14 longs;
        # ru_nvcsw and ru_nivcsw are the 13th and 14th (offsets 128, 136).
        s += addr_load(buf + 128) + addr_load(buf + 136)
    t1 = monotonic_ns()
    return t1 - t0, s - fails * (1 << 50)


@njit(cache=True, nogil=True)
def k_malloc_free(size, n):
    s = 0
    t0 = monotonic_ns()
    for _ in range(n):
        p = libc_malloc(size)
        if p == 0:
            s -= 1 << 60
        s ^= p
        libc_free(p)
    t1 = monotonic_ns()
    return t1 - t0, s


@njit(cache=True, nogil=True)
def k_malloc_producer(size, ptrs, k, ctl, rounds):
    """Round r: wait for the consumer to be done with round r-1, malloc ``k``
    blocks into ``ptrs``, hand them over. Returns (ns spent in malloc, NULLs).
    """
    busy = 0
    nulls = 0
    for r in range(rounds):
        while addr_load_acquire(ctl) != 2 * r:
            pass
        t0 = monotonic_ns()
        for i in range(k):
            p = libc_malloc(size)
            if p == 0:
                nulls += 1
            addr_store(ptrs + 8 * i, p)
        busy += monotonic_ns() - t0
        addr_store_release(ctl, 2 * r + 1)
    return busy, nulls


@njit(cache=True, nogil=True)
def k_free_consumer(ptrs, k, ctl, rounds):
    """Round r: wait for the producer's blocks, free them all, hand the slots
    back. Returns (ns spent in free, xor of the freed addresses)."""
    busy = 0
    s = 0
    for r in range(rounds):
        while addr_load_acquire(ctl) != 2 * r + 1:
            pass
        t0 = monotonic_ns()
        for i in range(k):
            p = addr_load(ptrs + 8 * i)
            s ^= p
            libc_free(p)
        busy += monotonic_ns() - t0
        addr_store_release(ctl, 2 * r + 2)
    return busy, s


@njit(cache=True, nogil=True)
def k_malloc_free_batches(size, ptrs, k, rounds):
    """The same batches (malloc ``k``, then free ``k``) on one thread."""
    busy = 0
    s = 0
    for _ in range(rounds):
        t0 = monotonic_ns()
        for i in range(k):
            p = libc_malloc(size)
            if p == 0:
                s -= 1 << 60
            addr_store(ptrs + 8 * i, p)
        t1 = monotonic_ns()
        for i in range(k):
            p = addr_load(ptrs + 8 * i)
            s ^= p
            libc_free(p)
        busy += t1 - t0 + monotonic_ns() - t1
    return busy, s


@njit(cache=True, nogil=True)
def k_memcpy_hot(dst, src, size, n):
    """The hot kernel memcpy: ``size`` bytes between two buffers that stay in
    L1, as a bounce/scratch-to-slot copy or a header write."""
    t0 = monotonic_ns()
    for i in range(n):
        off = (i & 7) << 6
        addr_memcpy(dst + off, src + off, size)
    t1 = monotonic_ns()
    return t1 - t0, addr_load(dst + (((n - 1) & 7) << 6))


@njit(cache=True, nogil=True)
def k_memcpy_cold(dst, src, mask, fill, line0, size, n):
    """The cold user copy: ``size`` bytes from an arena of ``mask + 1`` cache
    lines (much larger than the last-level cache) into one small destination
    that stays in cache, as copy_from_user into a kernel buffer. The source
    lines are visited in the pseudo-random order of a full-period LCG mod
    ``mask + 1``: no line is reused until all were, and no stride a
    prefetcher could follow.

    The next line also depends on the first 8 bytes just copied (the arena
    holds the int64 ``fill`` everywhere, so they add 0, but the compiler
    cannot know): each copy waits for the previous one, so the miss latency
    of an isolated copy is exposed instead of overlapped.
    """
    line = line0
    t0 = monotonic_ns()
    for _ in range(n):
        addr_memcpy(dst, src + (line << 6), size)
        line = (line * 6364136223846793005 + 1442695040888963407
                + (addr_load(dst) - fill)) & mask
    t1 = monotonic_ns()
    return t1 - t0, line


@njit(cache=True, nogil=True)
def k_touch(addr, pagesize, n):
    t0 = monotonic_ns()
    for i in range(n):
        addr_store(addr + i * pagesize, i + 1)
    t1 = monotonic_ns()
    s = 0
    for i in range(n):
        s += addr_load(addr + i * pagesize)
    return t1 - t0, s


@njit(cache=True, nogil=True)
def k_pingpong(rfd, wfd, buf, first, n):
    """``n`` rounds of a one-byte ping-pong over two pipes: read from
    ``rfd`` (unless ``first``, which writes first), write to ``wfd``. With
    both threads on one CPU every round trip is two context switches."""
    bad = 0
    t0 = monotonic_ns()
    for _ in range(n):
        if first:
            bad += libc_write(wfd, buf, 1) != 1
            bad += libc_read(rfd, buf, 1) != 1
        else:
            bad += libc_read(rfd, buf, 1) != 1
            bad += libc_write(wfd, buf, 1) != 1
    return monotonic_ns() - t0, bad
