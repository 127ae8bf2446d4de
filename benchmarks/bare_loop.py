"""The floor any engine pays: a bare reserve / write_header / copy / commit loop.

:func:`bare_loop` runs ``n`` records through one CPU buffer of
:mod:`fastring.buffer` with nothing else around them: no tasks, no clock, no
faults, no histograms. Per record it calls the same kernels the engine calls
on its hot path:

* ``reserve`` of ``header + 64`` bytes (rounded to 8);
* ``write_header`` (the 40-byte model header);
* ``copy_in`` of a 64-byte payload (the ``llvm.memcpy`` intrinsic), taken
  from a 4 KiB source block at a moving offset;
* ``commit`` with ``C_LOCAL`` (a plain add to ``cc[LOCAL]``) or ``C_REMOTE``
  (the ``lock add`` to ``cc[REMOTE]`` of the split-counter scheme).

The buffer never fills: with ``reader=False`` (the default) it is in
overwrite mode and every sub-buffer switch pushes the reader past the oldest,
fully committed, sub-buffer, so only the writer side is measured; with
``reader=True`` it is in discard mode and :func:`fastring.buffer.consume`
(no verification) takes every complete sub-buffer whenever the next reserve
could need a free one, so the reader's header parsing is paid as well.

The loop is compiled like the engine's kernels: ``_nrt=False`` (no
reference counting of the ring's arrays; with it, every out-of-line kernel
call costs an atomic incref/decref per array) and ``cache=True``. numba's
cache only notices changes to this file, while the kernels of
:mod:`fastring.buffer` are inlined into the loop, so the cached loop is
dropped whenever ``fastring/buffer.py``, ``_intrinsics.py`` or
``histogram.py`` change, or the module is imported under another name than
the one it was compiled under (a hash kept beside the cache). Scripts import
it as ``benchmarks.bare_loop``, as asv does.

``ns_per_record(n, how)`` times one call (compiled beforehand; the ring is
allocated outside the timed call). Run it as a script for a quick figure:
``python benchmarks/bare_loop.py [--records 1e7] [--repeat 3]``.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numba
import numpy as np
from numba import njit

import fastring
from fastring import buffer as B
from fastring.histogram import N_BINS

PAYLOAD = 64
SUBBUF_SIZE = 65536
N_SUBBUF = 4
SRC_BYTES = 4096
COMMITS = {"local": B.C_LOCAL, "remote": B.C_REMOTE, "atomic": B.C_ATOMIC}
#: the kernels ``_loop`` inlines: numba's cache only watches this file, so a
#: change in one of these must drop the cached loop (see :func:`_fresh_cache`)
_DEPS = ("buffer.py", "_intrinsics.py", "histogram.py")


@njit(cache=True, _nrt=False)      # no refcounting, as the engine's kernels
def _loop(ring, src, n, how, with_reader, delivery, empty):
    """``n`` records into buffer 0; returns the number recorded."""
    header = ring.geo[B.G_HEADER]
    size = B.record_size(header, PAYLOAD)
    total = ring.geo[B.G_SUBBUF] * ring.geo[B.G_NSUB]
    span = src.size - PAYLOAD
    st = ring.st
    for i in range(n):
        if with_reader and st[0, B.WR] + size - st[0, B.RD] > total - ring.geo[B.G_SUBBUF]:
            B.consume(ring, 0, i, 0, False, empty, 0, 1, delivery,
                      np.int64(1) << 62)
        off = B.reserve(ring, 0, size)
        if off < 0:
            continue
        B.write_header(ring, 0, off, PAYLOAD, 0, 0, i, i, 0)
        B.copy_in(ring, 0, off, 0, src, (i * 64) & (span - 1), PAYLOAD)
        B.commit(ring, 0, off, size, how, i)
    return st[0, B.RECORDED]


_checked = False


def _fresh_cache() -> None:
    """Drop ``_loop``'s cached machine code if the fastring kernels it was
    compiled against have changed since (numba keys the cache on this file
    only; the kernels are inlined into the loop)."""
    global _checked
    if _checked:
        return
    _checked = True
    h = hashlib.sha256(f"{numba.__version__} {__name__}".encode())
    pkg = Path(fastring.__file__).parent
    for name in _DEPS:
        h.update((pkg / name).read_bytes())
    digest = h.hexdigest()
    try:
        stamp = Path(_loop._cache._cache_path) / "bare_loop.deps.sha256"
        if not stamp.is_file() or stamp.read_text() != digest:
            _loop._cache.flush()
            stamp.write_text(digest)
    except (AttributeError, OSError):   # numba internals moved: always recompile
        _loop._cache.flush()


def _run(ring, src, n, how, reader):
    _fresh_cache()
    return _loop(ring, src, np.int64(n), np.int64(COMMITS[how]), reader,
                 np.zeros(N_BINS, np.int64), np.empty(0, np.uint8))


def new_ring(reader: bool = False) -> B.Ring:
    return B.new_ring(1, SUBBUF_SIZE, N_SUBBUF, B.HEADER_MIN,
                      "discard" if reader else "overwrite")


def source() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, SRC_BYTES, dtype=np.uint8)


def bare_loop(n: int, how: str = "local", reader: bool = False) -> int:
    """Run ``n`` records; returns how many were recorded (all of them)."""
    return int(_run(new_ring(reader), source(), n, how, reader))


def compile_all() -> None:
    for how in COMMITS:
        for reader in (False, True):
            bare_loop(1000, how, reader)


def ns_per_record(n: int = 10_000_000, how: str = "local",
                  reader: bool = False) -> float:
    """Wall ns per record of one ``n``-record loop (compiled beforehand;
    ring allocation is outside the timed call)."""
    bare_loop(1000, how, reader)
    ring = new_ring(reader)
    ring.data.fill(1)                   # take the first-touch page faults now
    ring.data.fill(0)
    src = source()
    t0 = time.perf_counter()
    got = _run(ring, src, n, how, reader)
    dt = time.perf_counter() - t0
    if got != n:
        raise RuntimeError(f"bare loop recorded {got} of {n} records")
    return dt * 1e9 / n


if __name__ == "__main__":
    import argparse
    import statistics
    import sys

    # Use the loop of ``benchmarks.bare_loop``, never this ``__main__`` copy:
    # numba's cache is per file, and the compiled code remembers the module
    # name it was compiled under (asv imports ``benchmarks.bare_loop``).
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.bare_loop import ns_per_record

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=float, default=1e7)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    for reader in (False, True):
        for how in ("local", "remote"):
            xs = [ns_per_record(int(a.records), how, reader) for _ in range(a.repeat)]
            print(f"{how:6s} commit, {'reader   ' if reader else 'overwrite'}: "
                  f"{statistics.median(xs):6.2f} ns/record (median of {a.repeat}; "
                  f"min {min(xs):.2f}, max {max(xs):.2f})")
