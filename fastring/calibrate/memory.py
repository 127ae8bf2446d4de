"""Measurements of copies (hot kernel memcpy, cold user copy), malloc+free
and the minor page fault."""
from __future__ import annotations

import mmap
import resource

import numpy as np

from . import kernels as K
from ._util import aligned, fit_line, pick_n, run_threads, series, stats
from .guards import CalibrationError

MEMCPY_SIZES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
MALLOC_SIZES = (64, 128, 256, 512, 1024, 2048, 4096)


def _fit_into(res, call_key, byte_key, fits, label):
    """Medians of per-run line fits into the cost keys ``call_key`` and
    ``byte_key`` (a negative fixed part is clamped to 0, with a note)."""
    st_call = stats([c for c, _ in fits])
    if st_call["median"] < 0:
        res["notes"].append(
            f"{label} fit gave a negative fixed cost "
            f"({st_call['median']:.2f} ns); clamped to 0")
        st_call = {k: (max(v, 0.0) if k != "repeats" else v)
                   for k, v in st_call.items()}
    res["costs"][call_key] = st_call
    res["costs"][byte_key] = stats([b for _, b in fits])


def measure_memcpy_hot(repeats, target, res):
    """memcpy_call / memcpy_byte: libc memcpy between two buffers in L1."""
    raw, base, _ = aligned(32768, 4096)
    raw[:] = np.arange(raw.size, dtype=np.uint64).astype(np.uint8)
    src = base
    dst = base + 16384 + 2112      # no 4 KiB aliasing between src and dst
    ns = {s: pick_n(lambda n, s=s: K.k_memcpy_hot(dst, src, s, n)[0],
                    target) for s in MEMCPY_SIZES}
    hot = {s: [] for s in MEMCPY_SIZES}
    fits = []
    for _ in range(repeats):
        row = []
        for s in MEMCPY_SIZES:
            dt, _chk = K.k_memcpy_hot(dst, src, s, ns[s])
            hot[s].append(dt / ns[s])
            row.append(dt / ns[s])
        fits.append(fit_line(MEMCPY_SIZES, row))
    _fit_into(res, "memcpy_call", "memcpy_byte", fits, "hot memcpy")
    for s in MEMCPY_SIZES:
        res["measured"][f"memcpy_hot_{s}"] = dict(
            stats(hot[s]), what=f"memcpy of {s} B, in cache, per call")


def measure_copy_user_cold(repeats, target, quick, res):
    """copy_user_call / copy_user_byte: memcpy from scattered lines of an
    arena far larger than the last-level cache into a small buffer that
    stays in cache (copy_from_user of data not in cache)."""
    arena_mb = 64 if quick else 256
    size = arena_mb << 20                     # a power of two
    slack = 8192                              # a copy may run past the end
    araw, src, _ = aligned(size + slack, 4096)
    araw[:] = 1                               # fault everything in now
    draw, dst, _ = aligned(8192, 4096)
    fill = 0x0101010101010101
    mask = size // 64 - 1
    line = 0
    cold = {s: [] for s in MEMCPY_SIZES}
    fits = []
    cn = {}
    for s in MEMCPY_SIZES:
        dt, line = K.k_memcpy_cold(dst, src, mask, fill, line, s, 256)
        cn[s] = int(min(max(target / 2 / max(dt / 256, 1.0), 64), 200_000))
    for _ in range(repeats):
        row = []
        for s in MEMCPY_SIZES:
            dt, line = K.k_memcpy_cold(dst, src, mask, fill, line, s, cn[s])
            cold[s].append(dt / cn[s])
            row.append(dt / cn[s])
        fits.append(fit_line(MEMCPY_SIZES, row))
    _fit_into(res, "copy_user_call", "copy_user_byte", fits,
              f"cold copy ({arena_mb} MiB arena)")
    for s in MEMCPY_SIZES:
        res["measured"][f"copy_user_cold_{s}"] = dict(
            stats(cold[s]), what=f"copy of {s} B from a {arena_mb} MiB "
                                 f"arena (out of cache), per call")
    del araw, draw


def measure_malloc(repeats, target, res):
    for s in MALLOC_SIZES:
        def check(n, chk):
            if chk < 0:
                raise CalibrationError("malloc returned NULL")
        st = stats(series(K.k_malloc_free, (s,), 1, repeats, target, check))
        if s == 256:
            res["costs"]["kmalloc_kfree"] = st
        res["measured"][f"malloc_free_{s}"] = dict(
            st, what=f"malloc({s})+free, same thread")

    # Batches of k blocks (small enough that glibc does not trim its heap
    # after each one): malloc on one thread, free on another, handed over
    # through a flag; each thread times only its own malloc / free loops.
    # The same batches on one thread are the fair comparison.
    k = 128
    praw, ptrs, _ = aligned(8 * k, 64)
    craw, ctl, coff = aligned(64, 64)
    ctlv = craw[coff:coff + 8].view(np.int64)

    def cross(rounds):
        ctlv[:] = 0
        (ta, nulls), (tb, _) = run_threads([
            lambda: K.k_malloc_producer(256, ptrs, k, ctl, rounds),
            lambda: K.k_free_consumer(ptrs, k, ctl, rounds)])
        if nulls:
            raise CalibrationError("malloc returned NULL")
        return (ta + tb) / (rounds * k)

    def same(rounds):
        dt, chk = K.k_malloc_free_batches(256, ptrs, k, rounds)
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
        stats(same_s), what=f"malloc(256) x{k}, then free x{k}, same thread")
    res["measured"]["malloc_free_256_cross_thread"] = dict(
        stats(cross_s), what=f"malloc(256) x{k} on one thread, free x{k} "
                             f"on another")
    del praw, craw


def measure_minor_fault(repeats, quick, res):
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
        K.k_touch(addr, page, npages)                   # fault in, compile
        samples = []
        bad = []
        for _ in range(repeats + 1):
            mm.madvise(mmap.MADV_DONTNEED)
            r0 = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
            dt, _ = K.k_touch(addr, page, npages)
            r1 = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
            base_dt, _ = K.k_touch(addr, page, npages)   # resident: no fault
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
        stats(samples), what=f"anonymous page fault after "
                             f"MADV_DONTNEED ({npages} pages/pass, checked "
                             f"with ru_minflt); goes to faults.minor_ns")
