"""The floor any engine pays: a bare reserve / write_header / copy / commit loop.

:func:`bare_loop` runs ``n`` records through one CPU buffer of
:mod:`fastring.model.buffer` with nothing else around them: no tasks, no clock, no
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
``reader=True`` it is in discard mode and :func:`fastring.model.buffer.consume`
(no verification) takes every complete sub-buffer whenever the next reserve
could need a free one, so the reader's header parsing is paid as well.

The loop is compiled like the engine's kernels: ``_nrt=False`` (no
reference counting of the ring's arrays; with it, every out-of-line kernel
call costs an atomic incref/decref per array) and ``cache=True``. numba's
cache only notices changes to this file, while the kernels of
:mod:`fastring.model.buffer` are inlined into the loop, so the cached loop is
dropped whenever ``fastring/model/buffer.py``, ``_intrinsics.py`` or
``histogram.py`` change, or the module is imported under another name than
the one it was compiled under (a hash kept beside the cache). Scripts import
it as ``benchmarks.bare_loop``, as asv does.

``ns_per_record(n, how)`` times one call (compiled beforehand; the ring is
allocated outside the timed call).

The 64-byte loop is not a like-for-like floor for the engine, whose default
workload copies ~440 bytes per event on average (lognormal lengths, some
events without payload) from a 16 MiB user arena and verifies every byte.
:func:`ns_per_record_wl` runs the *workload-matched* loop: the same kernels
and loop body (:func:`_records`), but

* the payload lengths and source offsets of the ``n`` records are drawn once,
  outside the timed call (:func:`workload`), from the distributions of
  ``fastring.config.load(None)`` / ``fastring.world.prepare``: kind by the
  mix's weights, length = lognormal(median, sigma) rounded and clamped to
  [1, ``workload.capture_max``], 0 for payload "none" (the record is then a
  bare header); offset uniform in a random task's working set, as
  ``_issue`` in fastring/engine.py draws them (numpy's ``default_rng(seed)``,
  not the engine's counter-based stream: same distributions, other numbers);
* payloads are copied from the world's arena (``world.arena``), each header
  recording its arena address (and kind 0);
* one buffer of the default geometry (``buffer.subbuf_size``, ``n_subbuf``,
  ``header_size``) in discard mode, the reader consuming whenever the next
  reserve could need a free sub-buffer, with verification on (every
  payload compared byte for byte with the arena at the recorded address);
  the loop ends by flushing and consuming the rest, and the call raises
  unless all ``n`` records were recorded, delivered and verified clean;
* a local commit by default. It reads two int64 tables (16 B per record),
  which the engine computes instead.

Run it as a script for a quick figure of both loops:
``python benchmarks/bare_loop.py [--records 1e7] [--repeat 3]``.
"""
from __future__ import annotations

import functools
import hashlib
import time
from collections import namedtuple
from pathlib import Path

import numba
import numpy as np
from numba import njit

import fastring
from fastring.model import buffer as B
from fastring import config
from fastring.world import prepare as world
from fastring.model.histogram import N_BINS

PAYLOAD = 64
SUBBUF_SIZE = 65536
N_SUBBUF = 4
SRC_BYTES = 4096
COMMITS = {"local": B.C_LOCAL, "remote": B.C_REMOTE, "atomic": B.C_ATOMIC}
#: the kernels ``_loop`` inlines: numba's cache only watches this file, so a
#: change in one of these must drop the cached loop (see :func:`_fresh_cache`)
_DEPS = ("buffer.py", "_intrinsics.py", "histogram.py")


@njit(cache=True, _nrt=False, inline="always")
def _records(ring, src, lens, offs, n, how, with_reader, verify, cap, n_kinds,
             delivery, fixed):
    """The body both loops share: ``n`` records into buffer 0.

    With ``fixed > 0`` (a compile-time constant, see :func:`_loop`) every
    record copies ``fixed`` bytes of ``src`` at a moving offset; otherwise
    record ``i`` copies ``lens[j]`` bytes from ``src[offs[j]:]``, ``j``
    cycling through the tables. The reader (``with_reader``) takes every
    complete sub-buffer whenever the next reserve could need a free one;
    with ``verify`` it checks every record against ``src`` at its recorded
    address, and the loop ends by flushing and consuming the rest, so that
    every record is checked. Returns the number recorded."""
    header = ring.geo[B.G_HEADER]
    total = ring.geo[B.G_SUBBUF] * ring.geo[B.G_NSUB]
    st = ring.st
    m = offs.size
    j = 0
    for i in range(n):
        if fixed > 0:
            length = fixed
            at = (i * fixed) & (src.size - fixed - 1)
        else:
            length = lens[j]
            at = offs[j]
            j += 1
            if j == m:
                j = 0
        size = B.record_size(header, length)
        if with_reader and st[0, B.WR] + size - st[0, B.RD] > total - ring.geo[B.G_SUBBUF]:
            B.consume(ring, 0, i, 0, verify, src, cap, n_kinds, delivery,
                      np.int64(1) << 62)
        off = B.reserve(ring, 0, size)
        if off < 0:
            continue
        B.write_header(ring, 0, off, length, 0, 0, i, i, at)
        B.copy_in(ring, 0, off, 0, src, at, length)
        B.commit(ring, 0, off, size, how, i)
    if with_reader and verify:
        B.flush(ring, 0)
        B.consume(ring, 0, n, 0, verify, src, cap, n_kinds, delivery,
                  np.int64(1) << 62)
    return st[0, B.RECORDED]


@njit(cache=True, _nrt=False)      # no refcounting, as the engine's kernels
def _loop(ring, src, none, n, how, with_reader, delivery):
    """The 64-byte loop (``none``: empty tables, unused). The length and the
    offsets stay compile-time arithmetic, as before the tables existed: a
    variable length turns the 64-byte copy into a call to ``memcpy``, about
    +2.7 ns/record here, and table lookups cost ~0.2 ns/record more."""
    return _records(ring, src, none, none, n, how, with_reader, False,
                    np.int64(0), np.int64(1), delivery, PAYLOAD)


@njit(cache=True, _nrt=False)
def _loop_wl(ring, arena, lens, offs, n, how, cap, n_kinds, delivery):
    """The workload-matched loop: tables of lengths and arena offsets,
    reader and verification on."""
    return _records(ring, arena, lens, offs, n, how, True, True, cap, n_kinds,
                    delivery, 0)


_checked = False


def _fresh_cache() -> None:
    """Drop the loops' cached machine code if the fastring kernels they were
    compiled against have changed since (numba keys the cache on this file
    only; the kernels are inlined into the loops)."""
    global _checked
    if _checked:
        return
    _checked = True
    h = hashlib.sha256(f"{numba.__version__} {__name__}".encode())
    pkg = Path(fastring.__file__).parent
    for name in _DEPS:
        h.update((pkg / name).read_bytes())
    digest = h.hexdigest()
    loops = (_loop, _loop_wl)
    try:
        stamp = Path(_loop._cache._cache_path) / "bare_loop.deps.sha256"
        if not stamp.is_file() or stamp.read_text() != digest:
            for f in loops:
                f._cache.flush()
            stamp.write_text(digest)
    except (AttributeError, OSError):   # numba internals moved: always recompile
        for f in loops:
            f._cache.flush()


def _run(ring, src, n, how, reader):
    _fresh_cache()
    return _loop(ring, src, np.empty(0, np.int64), np.int64(n),
                 np.int64(COMMITS[how]), reader, np.zeros(N_BINS, np.int64))


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


Workload = namedtuple("Workload", "lens offs arena cap n_kinds buffer")
Workload.__doc__ = """Per-record payload lengths and arena offsets (int64[n]),
the world's arena, ``capture_max``, the number of kinds and the config's
``buffer`` section, for :func:`ns_per_record_wl`."""


@functools.lru_cache(maxsize=2)
def workload(n: int, seed: int = 0) -> Workload:
    """``n`` records drawn like the engine's default world (``_issue`` in
    fastring/engine.py), with ``numpy.random.default_rng(seed)``: the same
    distributions, not the engine's counter-based stream. Kind by the mix's
    weights; length = lognormal(median, sigma) rounded, clamped to
    [1, capture_max], 0 for payload "none"; offset uniform in a random task's
    working set (clamped to the arena, as the engine does)."""
    cfg = config.load(None)
    w = world.prepare(cfg)
    rng = np.random.default_rng(seed)
    cap = int(w.p[world.P_CAPMAX])
    n_kinds = w.kind_cdf.size
    kind = np.minimum(np.searchsorted(w.kind_cdf, rng.random(n), side="right"),
                      n_kinds - 1)
    x = rng.lognormal(np.log(w.kind_median[kind]), w.kind_sigma[kind])
    lens = np.minimum(np.maximum(x + 0.5, 1.0), cap).astype(np.int64)
    lens[w.kind_payload[kind] == world.PAYLOAD_NONE] = 0
    task = rng.integers(0, w.ws_base.size, n)
    span = np.maximum(w.ws_bytes, lens)
    base = np.minimum(w.ws_base[task], w.arena.size - span)
    offs = base + (rng.random(n) * (span - lens + 1)).astype(np.int64)
    return Workload(lens, offs, w.arena, cap, n_kinds, cfg["buffer"])


def mean_payload(n: int = 10_000_000, seed: int = 0) -> float:
    """Mean payload bytes per record of the workload-matched loop."""
    return float(workload(n, seed).lens.mean())


def _run_wl(n, how, seed):
    """One workload-matched loop on a fresh ring (pages touched first);
    returns its wall seconds. Raises unless all ``n`` records were recorded,
    delivered and verified without error."""
    _fresh_cache()
    wl = workload(n, seed)
    b = wl.buffer
    ring = B.new_ring(1, b["subbuf_size"], b["n_subbuf"], b["header_size"],
                      "discard")
    ring.data.fill(1)                   # take the first-touch page faults now
    ring.data.fill(0)
    delivery = np.zeros(N_BINS, np.int64)
    t0 = time.perf_counter()
    got = _loop_wl(ring, wl.arena, wl.lens, wl.offs, np.int64(n),
                   np.int64(COMMITS[how]), np.int64(wl.cap),
                   np.int64(wl.n_kinds), delivery)
    dt = time.perf_counter() - t0
    st = ring.st[0]
    if got != n or st[B.DELIVERED] != n or st[B.VERIFY_ERRORS]:
        raise RuntimeError(
            f"workload-matched loop: {got} of {n} records recorded, "
            f"{st[B.DELIVERED]} delivered, {st[B.VERIFY_ERRORS]} verify errors")
    return dt


def ns_per_record_wl(n: int = 10_000_000, how: str = "local",
                     seed: int = 0) -> float:
    """Wall ns per record of one ``n``-record workload-matched loop (compiled
    beforehand; the draws and the ring are made outside the timed call)."""
    _run_wl(1000, how, seed)
    return _run_wl(n, how, seed) * 1e9 / n


if __name__ == "__main__":
    import argparse
    import statistics
    import sys

    # Use the loop of ``benchmarks.bare_loop``, never this ``__main__`` copy:
    # numba's cache is per file, and the compiled code remembers the module
    # name it was compiled under (asv imports ``benchmarks.bare_loop``).
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.bare_loop import mean_payload, ns_per_record, ns_per_record_wl

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
    n = int(a.records)
    xs = [ns_per_record_wl(n) for _ in range(a.repeat)]
    print(f"workload-matched, reader + verify: {statistics.median(xs):6.2f} ns/record "
          f"(median of {a.repeat}; min {min(xs):.2f}, max {max(xs):.2f}; "
          f"mean payload {mean_payload(n):.1f} B)")
