"""The LLVM primitives fastring's compiled code needs and Numba does not
expose, all in this one module: the simulation's hot path (below), the
cross-thread loads and stores of ``fastring live``, and the raw-address
operations ``fastring calibrate`` times (at the end). The hot path's two:

* ``memcpy(dst, dst_off, src, src_off, n)``: an ``llvm.memcpy`` between two
  1-D uint8 arrays. A Numba slice assignment costs ~10x more on the 64-256
  byte copies a trace record makes.
* ``atomic_add(arr, idx, val)``: an ``atomicrmw add`` (a ``lock add`` /
  ``lock xadd`` on x86) on one int64 element; returns the old value. It is
  how a commit from another CPU updates ``cc[REMOTE]``.

Under ``NUMBA_DISABLE_JIT=1`` intrinsics cannot run, so both fall back to
plain Python with the same results (the simulation is sequential: atomicity
only matters for the real instruction's cost, which ``fastring calibrate``
measures).

Checked mode: the byte accesses (``memcpy``, ``load_i64``, ``store_i64``,
``memeq``) and the element accesses by index (``atomic_add``,
``load_acquire``, ``store_release``, ``local_add``) go straight to memory,
out of ``NUMBA_BOUNDSCHECK``'s sight. With ``NUMBA_BOUNDSCHECK=1`` or
``FASTRING_DEBUG=1`` (:data:`CHECKED`) each is replaced by a variant that
raises IndexError on a byte range or index outside its array, and kernels compile afresh into a private cache directory: numba's
cache keys a kernel on its own source only, so a warm cache would otherwise
serve kernels compiled without any checks. The no-JIT fallbacks always check.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import numba
from numba import njit, types
from numba.core import cgutils
from llvmlite import ir
from numba.extending import intrinsic

__all__ = ["memcpy", "atomic_add", "bit_length", "load_i64", "store_i64", "memeq"]

#: bounds-checked byte accesses (see the module docstring)
CHECKED = bool(numba.config.BOUNDSCHECK) or \
    os.environ.get("FASTRING_DEBUG", "") not in ("", "0")

if CHECKED and not numba.config.DISABLE_JIT:   # after kernel_cache.setup()
    numba.config.CACHE_DIR = tempfile.mkdtemp(prefix="fastring-checked-")
    os.environ["NUMBA_CACHE_DIR"] = numba.config.CACHE_DIR   # if numba re-reads it
    atexit.register(shutil.rmtree, numba.config.CACHE_DIR, ignore_errors=True)


def _span_ok(arr, off, n):
    """Is ``arr[off:off + n]`` a byte range inside ``arr`` (any ``n >= 0``)?"""
    return 0 <= off and 0 <= n and off + n <= arr.size


if numba.config.DISABLE_JIT:  # pragma: no cover - exercised by the no-JIT CI pass

    def memcpy(dst, dst_off, src, src_off, n):
        if not (_span_ok(dst, dst_off, n) and _span_ok(src, src_off, n)):
            raise IndexError("memcpy: byte range out of bounds")
        dst[dst_off:dst_off + n] = src[src_off:src_off + n]

    def atomic_add(arr, idx, val):
        old = arr[idx]
        arr[idx] = old + val
        return old

else:

    @intrinsic
    def memcpy(typingctx, dst, dst_off, src, src_off, n):
        if not (isinstance(dst, types.Array) and isinstance(src, types.Array)
                and dst.ndim == 1 and src.ndim == 1
                and dst.dtype == types.uint8 and src.dtype == types.uint8):
            return None
        sig = types.void(dst, types.int64, src, types.int64, types.int64)

        def codegen(context, builder, signature, args):
            dst_v, doff, src_v, soff, count = args
            darr = context.make_array(signature.args[0])(context, builder, dst_v)
            sarr = context.make_array(signature.args[2])(context, builder, src_v)
            dptr = builder.gep(darr.data, [doff])
            sptr = builder.gep(sarr.data, [soff])
            cgutils.raw_memcpy(builder, dptr, sptr, count, 1)
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def atomic_add(typingctx, arr, idx, val):
        if not (isinstance(arr, types.Array) and arr.ndim == 1
                and arr.dtype == types.int64):
            return None
        sig = types.int64(arr, types.int64, types.int64)

        def codegen(context, builder, signature, args):
            arr_v, index, value = args
            a = context.make_array(signature.args[0])(context, builder, arr_v)
            ptr = builder.gep(a.data, [index])
            return builder.atomic_rmw("add", ptr, value, "seq_cst")

        return sig, codegen


if numba.config.DISABLE_JIT:  # pragma: no cover

    def bit_length(v):
        return int(v).bit_length()

else:

    @intrinsic
    def bit_length(typingctx, v):
        """Number of significant bits of a non-negative int64 (64 - ctlz)."""
        if not isinstance(v, types.Integer):
            return None
        sig = types.int64(types.int64)

        def codegen(context, builder, signature, args):
            (value,) = args
            value = context.cast(builder, value, signature.args[0], types.int64)
            lz = builder.ctlz(value, cgutils.false_bit)
            return builder.sub(lz.type(64), lz)

        return sig, codegen


if numba.config.DISABLE_JIT:  # pragma: no cover

    def load_i64(arr, pos):
        if not _span_ok(arr, pos, 8):
            raise IndexError("load_i64: byte range out of bounds")
        return int.from_bytes(bytes(arr[pos:pos + 8]), "little", signed=True)

    def store_i64(arr, pos, value):
        if not _span_ok(arr, pos, 8):
            raise IndexError("store_i64: byte range out of bounds")
        arr[pos:pos + 8] = list(int(value).to_bytes(8, "little", signed=True))

else:

    def _i64_ptr(context, builder, arrty, arr_v, pos):
        a = context.make_array(arrty)(context, builder, arr_v)
        p = builder.gep(a.data, [pos])
        return builder.bitcast(p, ir.IntType(64).as_pointer())

    @intrinsic
    def load_i64(typingctx, arr, pos):
        """Unaligned little-endian int64 load from a uint8 array."""
        if not (isinstance(arr, types.Array) and arr.dtype == types.uint8):
            return None
        sig = types.int64(arr, types.int64)

        def codegen(context, builder, signature, args):
            ptr = _i64_ptr(context, builder, signature.args[0], args[0], args[1])
            return builder.load(ptr, align=1)

        return sig, codegen

    @intrinsic
    def store_i64(typingctx, arr, pos, value):
        """Unaligned little-endian int64 store into a uint8 array."""
        if not (isinstance(arr, types.Array) and arr.dtype == types.uint8):
            return None
        sig = types.void(arr, types.int64, types.int64)

        def codegen(context, builder, signature, args):
            ptr = _i64_ptr(context, builder, signature.args[0], args[0], args[1])
            value = context.cast(builder, args[2], signature.args[2], types.int64)
            builder.store(value, ptr, align=1)
            return context.get_dummy_value()

        return sig, codegen


if numba.config.DISABLE_JIT:  # pragma: no cover

    def memeq(a, a_off, b, b_off, n):
        if not (_span_ok(a, a_off, n) and _span_ok(b, b_off, n)):
            raise IndexError("memeq: byte range out of bounds")
        return bytes(a[a_off:a_off + n]) == bytes(b[b_off:b_off + n])

else:

    @intrinsic
    def _memcmp_eq(typingctx, a, a_off, b, b_off, n):
        """``memcmp(a + a_off, b + b_off, n) == 0``."""
        if not (isinstance(a, types.Array) and isinstance(b, types.Array)
                and a.dtype == types.uint8 and b.dtype == types.uint8):
            return None
        sig = types.boolean(a, types.int64, b, types.int64, types.int64)

        def codegen(context, builder, signature, args):
            av, aoff, bv, boff, count = args
            pa_ = builder.gep(context.make_array(signature.args[0])(context, builder, av).data, [aoff])
            pb_ = builder.gep(context.make_array(signature.args[2])(context, builder, bv).data, [boff])
            i8p = ir.IntType(8).as_pointer()
            fnty = ir.FunctionType(ir.IntType(32), [i8p, i8p, ir.IntType(64)])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "memcmp")
            r = builder.call(fn, [builder.bitcast(pa_, i8p), builder.bitcast(pb_, i8p), count])
            return builder.icmp_signed("==", r, ir.Constant(ir.IntType(32), 0))

        return sig, codegen

    @njit(cache=True, inline="always")
    def memeq(a, a_off, b, b_off, n):
        """Are ``n`` bytes of two uint8 arrays equal? libc ``memcmp``: a
        plain byte loop is not vectorized and costs ~1.5 ns per byte. Zero
        bytes are equal without asking it: glibc's AVX-512 ``memcmp`` takes
        ~220 ns for ``n == 0`` on this project's machines (AMD EPYC; 3 ns
        for 1 to 64 bytes), and a quarter of the default events have no
        payload (``python benchmarks/memcmp_zero.py``)."""
        return n == 0 or _memcmp_eq(a, a_off, b, b_off, n)


# -- cross-thread loads and stores (``fastring live``) -----------------------
#
# The simulation is sequential; ``fastring live`` runs the same buffer kernels
# on real threads, so every word another thread reads is stored with release
# and loaded with acquire ordering (on x86 both are plain ``mov``s: what they
# add is the promise that LLVM neither reorders nor folds them). The index is
# flat, so 2-D C-contiguous arrays (``Ring.st``) take ``row * ncols + col``.
#
# * ``load_acquire(arr, i)`` / ``store_release(arr, i, v)`` on int64 arrays;
# * ``local_add(arr, i, v)``: the kernel's ``local_add``, a read-modify-write
#   without a lock prefix (relaxed load, release store); only correct when a
#   single thread ever writes that word, which is what the split counters
#   guarantee and what the ``commit_unsafe`` step deliberately breaks;
# * ``monotonic_ns()``: ``clock_gettime(CLOCK_MONOTONIC)`` from compiled code
#   (libc, served by the vDSO); also the clock ``fastring calibrate`` times
#   its loops with.

if numba.config.DISABLE_JIT:  # pragma: no cover

    def load_acquire(arr, idx):
        return arr.reshape(-1)[idx]

    def store_release(arr, idx, value):
        arr.reshape(-1)[idx] = value

    def local_add(arr, idx, value):
        flat = arr.reshape(-1)
        old = flat[idx]
        flat[idx] = old + value
        return old

    def monotonic_ns():
        import time
        return time.monotonic_ns()

else:

    def _int64_array(arr):
        return (isinstance(arr, types.Array) and arr.dtype == types.int64
                and arr.layout == "C")

    def _elem_ptr(context, builder, arrty, arr_v, idx):
        a = context.make_array(arrty)(context, builder, arr_v)
        return builder.gep(a.data, [idx])

    @intrinsic
    def load_acquire(typingctx, arr, idx):
        """Acquire load of one int64 element (flat index)."""
        if not _int64_array(arr):
            return None
        sig = types.int64(arr, types.int64)

        def codegen(context, builder, signature, args):
            ptr = _elem_ptr(context, builder, signature.args[0], args[0], args[1])
            return builder.load_atomic(ptr, "acquire", 8)

        return sig, codegen

    @intrinsic
    def store_release(typingctx, arr, idx, value):
        """Release store of one int64 element (flat index)."""
        if not _int64_array(arr):
            return None
        sig = types.void(arr, types.int64, types.int64)

        def codegen(context, builder, signature, args):
            ptr = _elem_ptr(context, builder, signature.args[0], args[0], args[1])
            v = context.cast(builder, args[2], signature.args[2], types.int64)
            builder.store_atomic(v, ptr, "release", 8)
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def local_add(typingctx, arr, idx, value):
        """Add without a lock prefix (relaxed load, release store); returns
        the old value. Single-writer words only."""
        if not _int64_array(arr):
            return None
        sig = types.int64(arr, types.int64, types.int64)

        def codegen(context, builder, signature, args):
            ptr = _elem_ptr(context, builder, signature.args[0], args[0], args[1])
            old = builder.load_atomic(ptr, "monotonic", 8)
            v = context.cast(builder, args[2], signature.args[2], types.int64)
            builder.store_atomic(builder.add(old, v), ptr, "release", 8)
            return old

        return sig, codegen

    @intrinsic
    def monotonic_ns(typingctx):
        """``clock_gettime(CLOCK_MONOTONIC)`` in ns (libc, resolved by name
        like ``memcmp`` above, so the caller stays cacheable)."""
        sig = types.int64()

        def codegen(context, builder, signature, args):
            i64 = ir.IntType(64)
            ts_t = ir.LiteralStructType([i64, i64])
            ts = cgutils.alloca_once(builder, ts_t)
            fnty = ir.FunctionType(ir.IntType(32), [ir.IntType(32), ts_t.as_pointer()])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "clock_gettime")
            builder.call(fn, [ir.Constant(ir.IntType(32), 1), ts])   # CLOCK_MONOTONIC
            zero = ir.Constant(ir.IntType(32), 0)
            sec = builder.load(builder.gep(ts, [zero, zero]))
            nsec = builder.load(builder.gep(ts, [zero, ir.Constant(ir.IntType(32), 1)]))
            return builder.add(builder.mul(sec, ir.Constant(i64, 1_000_000_000)), nsec)

        return sig, codegen


# ``cycles()``: the CPU's cycle counter (``llvm.readcyclecounter``: rdtsc on
# x86; 0 where the target has none). ``fastring live`` stamps records and
# times probes with it (a clock_gettime costs 20-70 ns on a VM, several
# times the probes it would time), converting with a ratio it measures.
if numba.config.DISABLE_JIT:  # pragma: no cover

    def cycles():
        return 0

else:

    @intrinsic
    def cycles(typingctx):
        sig = types.int64()

        def codegen(context, builder, signature, args):
            fnty = ir.FunctionType(ir.IntType(64), [])
            fn = cgutils.get_or_insert_function(builder.module, fnty,
                                                "llvm.readcyclecounter")
            return builder.call(fn, [])

        return sig, codegen


if CHECKED and not numba.config.DISABLE_JIT:
    # the checked variants: same names and signatures, a bounds check first
    _span_ok = njit(cache=True, inline="always")(_span_ok)
    _memcpy, _load_i64, _store_i64, _memeq = memcpy, load_i64, store_i64, memeq

    @njit(cache=True, inline="always")
    def memcpy(dst, dst_off, src, src_off, n):
        if not (_span_ok(dst, dst_off, n) and _span_ok(src, src_off, n)):
            raise IndexError("memcpy: byte range out of bounds")
        _memcpy(dst, dst_off, src, src_off, n)

    @njit(cache=True, inline="always")
    def load_i64(arr, pos):
        if not _span_ok(arr, pos, 8):
            raise IndexError("load_i64: byte range out of bounds")
        return _load_i64(arr, pos)

    @njit(cache=True, inline="always")
    def store_i64(arr, pos, value):
        if not _span_ok(arr, pos, 8):
            raise IndexError("store_i64: byte range out of bounds")
        _store_i64(arr, pos, value)

    @njit(cache=True, inline="always")
    def memeq(a, a_off, b, b_off, n):
        if not (_span_ok(a, a_off, n) and _span_ok(b, b_off, n)):
            raise IndexError("memeq: byte range out of bounds")
        return _memeq(a, a_off, b, b_off, n)

    # the element accesses by flat index: one int64 inside the array
    _atomic_add, _load_acquire, _store_release, _local_add = \
        atomic_add, load_acquire, store_release, local_add

    @njit(cache=True, inline="always")
    def atomic_add(arr, idx, val):
        if not 0 <= idx < arr.size:
            raise IndexError("atomic_add: index out of bounds")
        return _atomic_add(arr, idx, val)

    @njit(cache=True, inline="always")
    def load_acquire(arr, idx):
        if not 0 <= idx < arr.size:
            raise IndexError("load_acquire: index out of bounds")
        return _load_acquire(arr, idx)

    @njit(cache=True, inline="always")
    def store_release(arr, idx, value):
        if not 0 <= idx < arr.size:
            raise IndexError("store_release: index out of bounds")
        _store_release(arr, idx, value)

    @njit(cache=True, inline="always")
    def local_add(arr, idx, value):
        if not 0 <= idx < arr.size:
            raise IndexError("local_add: index out of bounds")
        return _local_add(arr, idx, value)


# --------------------------------------------------------------------------
# Raw-address primitives for ``fastring calibrate``: each works on an int64
# address (memory that escapes, so the compiler cannot drop or merge the
# operations it times) and emits exactly the instruction being measured.
# Calibration measures compiled code, so there is no pure-Python fallback:
# calling one with the JIT disabled raises. Its clock is ``monotonic_ns``.
# --------------------------------------------------------------------------

_I64 = ir.IntType(64)
_I32 = ir.IntType(32)
_I8P = ir.IntType(8).as_pointer()


def _p64(builder, addr):
    return builder.inttoptr(addr, _I64.as_pointer())


def _addr_load(ordering):
    @intrinsic
    def load(typingctx, addr):
        def codegen(context, builder, sig, args):
            return builder.load_atomic(_p64(builder, args[0]), ordering, 8)
        return types.int64(types.int64), codegen
    return load


def _addr_store(ordering):
    @intrinsic
    def store(typingctx, addr, val):
        def codegen(context, builder, sig, args):
            builder.store_atomic(args[1], _p64(builder, args[0]), ordering, 8)
            return context.get_dummy_value()
        return types.void(types.int64, types.int64), codegen
    return store


#: relaxed (monotonic) atomic load / store of an int64: a plain ``mov``
addr_load = _addr_load("monotonic")
addr_store = _addr_store("monotonic")
#: acquire load / release store: what a thread wrote before the release
#: store is visible to one that sees its value with the acquire load
addr_load_acquire = _addr_load("acquire")
addr_store_release = _addr_store("release")


@intrinsic
def addr_local_add(typingctx, addr, val):
    """Non-atomic read-modify-write: relaxed load, add, relaxed store."""
    def codegen(context, builder, sig, args):
        p = _p64(builder, args[0])
        old = builder.load_atomic(p, "monotonic", 8)
        builder.store_atomic(builder.add(old, args[1]), p, "monotonic", 8)
        return old
    return types.int64(types.int64, types.int64), codegen


@intrinsic
def addr_atomic_add(typingctx, addr, val):
    """``atomicrmw add seq_cst``: ``lock add`` / ``lock xadd`` on x86_64;
    returns the old value."""
    def codegen(context, builder, sig, args):
        return builder.atomic_rmw("add", _p64(builder, args[0]), args[1],
                                  "seq_cst")
    return types.int64(types.int64, types.int64), codegen


@intrinsic
def addr_atomic_cas(typingctx, addr, expected, new):
    """``cmpxchg seq_cst``: ``lock cmpxchg``; returns the old value."""
    def codegen(context, builder, sig, args):
        pair = builder.cmpxchg(_p64(builder, args[0]), args[1], args[2],
                               "seq_cst", "seq_cst")
        return builder.extract_value(pair, 0)
    return types.int64(types.int64, types.int64, types.int64), codegen


@intrinsic
def addr_plain_cas(typingctx, addr, expected, new):
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
def addr_memcpy(typingctx, dst, src, n):
    """``llvm.memcpy`` with a run-time length (a call to libc ``memcpy``)."""
    def codegen(context, builder, sig, args):
        cgutils.raw_memcpy(builder, builder.inttoptr(args[0], _I8P),
                           builder.inttoptr(args[1], _I8P), args[2], 1)
        return context.get_dummy_value()
    return types.void(types.int64, types.int64, types.int64), codegen


@intrinsic
def libc_malloc(typingctx, size):
    """libc ``malloc``; the address comes back as an int64 (it escapes)."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_I8P, [_I64]), "malloc")
        return builder.ptrtoint(builder.call(fn, [args[0]]), _I64)
    return types.int64(types.int64), codegen


@intrinsic
def libc_free(typingctx, addr):
    """libc ``free``."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [_I8P]), "free")
        builder.call(fn, [builder.inttoptr(args[0], _I8P)])
        return context.get_dummy_value()
    return types.void(types.int64), codegen


@intrinsic
def libc_getrusage(typingctx, who, addr):
    """libc ``getrusage(who, (struct rusage *)addr)``."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_I32, [_I32, _I8P]), "getrusage")
        r = builder.call(fn, [builder.trunc(args[0], _I32),
                              builder.inttoptr(args[1], _I8P)])
        return builder.sext(r, _I64)
    return types.int64(types.int64, types.int64), codegen


def _libc_io(name):
    @intrinsic
    def io(typingctx, fd, addr, n):
        """libc ``{name}(fd, (void *)addr, n)``; returns its result."""
        def codegen(context, builder, sig, args):
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(_I64, [_I32, _I8P, _I64]), name)
            return builder.call(fn, [builder.trunc(args[0], _I32),
                                     builder.inttoptr(args[1], _I8P), args[2]])
        return types.int64(types.int64, types.int64, types.int64), codegen
    return io


#: libc ``read`` / ``write`` on raw addresses (a pipe ping-pong)
libc_read = _libc_io("read")
libc_write = _libc_io("write")
