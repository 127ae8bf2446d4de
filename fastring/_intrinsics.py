"""Two LLVM primitives the hot path needs and Numba does not expose.

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
``memeq``) go straight to memory, out of ``NUMBA_BOUNDSCHECK``'s sight. With
``NUMBA_BOUNDSCHECK=1`` or ``FASTRING_DEBUG=1`` (:data:`CHECKED`) each is
replaced by a variant that raises IndexError on a byte range outside its
array, and kernels compile afresh into a private cache directory: numba's
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

if CHECKED and not numba.config.DISABLE_JIT:
    numba.config.CACHE_DIR = tempfile.mkdtemp(prefix="fastring-checked-")
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
