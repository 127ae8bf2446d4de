"""The per-CPU ring buffer of the LTTng lib ring buffer frontend, as kernels.

State lives in plain NumPy arrays grouped in a :class:`Ring` namedtuple (Numba
passes it to compiled code as a tuple; a jitclass would defeat ``cache=True``).
One ring holds ``n_bufs`` CPU buffers of ``n_subbuf`` sub-buffers of
``subbuf_size`` bytes; both are powers of two, so the sub-buffer index, the
offset inside it and the lap come from masks and shifts of a free-running
byte offset.

Semantics (see ``docs/model.md``):

* **Reserve** ``header + payload`` rounded up to 8 bytes. A record that does
  not fit in the rest of the sub-buffer switches to the next one; the rest
  becomes padding, committed at once into the old sub-buffer's LOCAL count.
  Entering the next sub-buffer follows LTTng's
  ``lib_ring_buffer_try_reserve_slow``: if its previous lap is not fully
  committed (a writer between reserve and commit pins it) the record is
  dropped as ``lost_wrap``, in both modes; else, if the reader has not
  consumed it, discard mode drops the record (``lost_full``) and overwrite
  mode pushes the reader past it (its records count as ``overwritten``).
  A record larger than a sub-buffer is dropped (``lost_big``). A dropped
  record moves nothing.
* **Commit** adds the record's size to ``cc[LOCAL]`` (a plain add, from the
  CPU that owns the buffer) or ``cc[REMOTE]`` (an atomic add, from another
  CPU). A sub-buffer is complete when ``cc[LOCAL] + cc[REMOTE]`` reaches one
  whole sub-buffer more than at the end of its previous lap.
* **Rollback** of a reservation that is still the last one moves the write
  offset back; otherwise the slot is committed as a padding record.
* **Memory ordering** (for ``fastring live``, where writers, committers and
  the reader are real threads): commit counters and the write/read offsets
  are stored with release and loaded with acquire ordering, so a reader
  that sees a sub-buffer complete sees its bytes; LOCAL is only ever written
  by its CPU (``local_add``), except by padding commits, which are atomic
  because ``commit_atomic`` writers share that word.
* **Consume**: the reader takes complete sub-buffers strictly in order (a
  stalled one holds back the rest), parses every record and, when asked,
  verifies header, timestamp order and every payload byte against the user
  memory it came from (zeros for a record flagged DATA_MISSING). A read
  that takes time is :func:`begin_read` then :func:`end_read`: in between
  the sub-buffer belongs to the reader, and in overwrite mode a writer that
  pushes past it overwrites the next one instead (LTTng's spare sub-buffer,
  ``update_read_sb_index``).

Each record starts with a fixed header (``HEADER_MIN`` = 40 bytes, the
configured ``header_size`` may be larger): payload length (u32), kind (u16),
flags (u16), timestamp, event index, user address, commit time (i64 each).
The last three are the model's bookkeeping (a real tracer's header is
smaller; count them as the event's fixed-size fields).

**Payload modes** (``buffer.payload``, ``geo[G_PAYLOAD]``). ``"bytes"``
moves real payload bytes into the slots and the reader compares them with
user memory. ``"sizes"`` is the payload-free mode: offsets, counters,
commits and headers are exactly as in ``"bytes"`` (so are every count, loss
and time the engine reports; the steps still charge their copy costs), but
:func:`copy_in`, :func:`zero_in` and :func:`stage` move no byte and the
reader checks headers only. The engine then needs no user-memory arena and
no scratch or bounce buffers; the ring itself is sized by its geometry, and
keeps it, since a sub-buffer of payload-less records is all headers.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from .._intrinsics import (atomic_add, load_acquire, load_i64, local_add, memcpy, memeq,
                           store_i64, store_release)
from .histogram import record as hist_record
from ..memory import lazy_zeros

# geometry vector
(G_SUBBUF, G_NSUB, G_HEADER, G_MODE, G_SB_SHIFT, G_TOT_SHIFT, G_NBUF, G_PAYLOAD,
 N_GEO) = range(9)
MODE_DISCARD, MODE_OVERWRITE = 0, 1
MODES = ("discard", "overwrite")
#: ``buffer.payload``: real payload bytes, or sizes only (see the module doc)
PAYLOAD_BYTES, PAYLOAD_SIZES = 0, 1
PAYLOAD_MODES = ("bytes", "sizes")
LOCAL, REMOTE = 0, 1
# how a commit is made: a plain add to LOCAL (owning CPU), an atomic add to
# REMOTE (another CPU, the split-counter scheme), or an atomic add to the one
# counter every writer shares (lttng-ust; kept in the LOCAL slot); C_UNSAFE is
# the bug the split counters prevent, for ``fastring live`` to catch: a plain
# (lock-free) add to the reserving CPU's LOCAL from another CPU
C_LOCAL, C_REMOTE, C_ATOMIC, C_UNSAFE = 0, 1, 2, 3

# per-buffer scalar state and counters: columns of ``Ring.st``
(WR, RD, RECORDED, LOST_FULL, LOST_WRAP, LOST_BIG, OVERWRITTEN,
 PADDING_BYTES, WASTED_BYTES, RECORDED_BYTES, SUBBUF_DELIVERED, DELIVERED,
 MAX_OCC, COMMITS_LOCAL, COMMITS_REMOTE, VERIFY_ERRORS, LAST_TS,
 DATA_MISSING_DELIVERED, COMMITS_ATOMIC, READING, SWAPPED, SPARE_NREC,
 SPARE_DSIZE, N_ST) = range(24)
ST_NAMES = ("wr", "rd", "records", "lost_full", "lost_wrap", "lost_big",
            "overwritten", "padding_bytes", "wasted_bytes", "recorded_bytes",
            "subbufs_delivered", "delivered", "max_occupancy",
            "commits_local", "commits_remote", "verify_errors", "last_ts",
            "data_missing_delivered", "commits_atomic", "reading", "swapped",
            "spare_records", "spare_end")
#: the reader's state (not counters): the sub-buffer it holds (READING, a
#: free-running offset, -1 for none), whether a writer swapped it out into
#: the reader's spare (SWAPPED), and the records and end of the spare
READER_STATE = ("reading", "swapped", "spare_records", "spare_end")

# reserve results (negative: the record was dropped)
R_LOST_FULL, R_LOST_WRAP, R_LOST_BIG = -1, -2, -3

# header layout
H_LEN, H_KIND, H_FLAGS, H_TS, H_EVENT, H_ADDR, H_COMMIT = 0, 4, 6, 8, 16, 24, 32
HEADER_MIN = 40
F_DATA_MISSING, F_PADDING = 1, 2

Ring = namedtuple("Ring", "geo st cc nrec dsize data")
Ring.__doc__ = """State of ``n_bufs`` CPU buffers.

geo   int64[N_GEO]             geometry and payload mode (G_* indices)
st    int64[n_bufs, N_ST]      write/read offsets, counters, reader state
cc    int64[n_bufs*n_subbuf*2] commit counters, [LOCAL, REMOTE] per sub-buffer
nrec  int64[n_bufs*n_subbuf]   records in each sub-buffer's current lap
dsize int64[n_bufs*n_subbuf]   end of the last record in each sub-buffer
data  uint8[(n_bufs*n_subbuf + n_bufs)*subbuf_size] backing bytes: the
      buffers, then one spare sub-buffer per buffer (the reader's, see
      :func:`begin_read`)
"""


def moves_bytes(cfg: dict) -> bool:
    """Does a run of ``cfg`` move payload bytes (``buffer.payload = "bytes"``)?
    In "sizes" mode it needs no user-memory arena, scratch or bounce buffer."""
    return cfg["buffer"]["payload"] == PAYLOAD_MODES[PAYLOAD_BYTES]


def _log2_exact(name: str, value: int) -> int:
    if value <= 0 or value & (value - 1):
        raise ValueError(f"buffer.{name} must be a power of two, got {value}")
    return value.bit_length() - 1


def new_ring(n_bufs: int, subbuf_size: int, n_subbuf: int,
             header_size: int = HEADER_MIN, mode: str = "discard",
             payload: str = "bytes") -> Ring:
    """Allocate an empty ring; checks the geometry (powers of two, header)
    and the modes."""
    sb_shift = _log2_exact("subbuf_size", subbuf_size)
    n_shift = _log2_exact("n_subbuf", n_subbuf)
    if header_size < HEADER_MIN or header_size % 8 or header_size >= subbuf_size:
        raise ValueError(f"buffer.header_size must be a multiple of 8 in "
                         f"[{HEADER_MIN}, subbuf_size), got {header_size}")
    if mode not in MODES:
        raise ValueError(f"buffer.mode must be one of {MODES}, got {mode!r}")
    if payload not in PAYLOAD_MODES:
        raise ValueError(f"buffer.payload must be one of {PAYLOAD_MODES}, "
                         f"got {payload!r}")
    if n_bufs < 1:
        raise ValueError(f"n_bufs must be >= 1, got {n_bufs}")
    geo = np.array([subbuf_size, n_subbuf, header_size, MODES.index(mode),
                    sb_shift, sb_shift + n_shift, n_bufs,
                    PAYLOAD_MODES.index(payload)], dtype=np.int64)
    st = np.zeros((n_bufs, N_ST), dtype=np.int64)
    st[:, READING] = -1
    return Ring(geo, st,
                np.zeros(n_bufs * n_subbuf * 2, dtype=np.int64),
                np.zeros(n_bufs * n_subbuf, dtype=np.int64),
                np.zeros(n_bufs * n_subbuf, dtype=np.int64),
                lazy_zeros((n_bufs * n_subbuf + n_bufs) * subbuf_size))


@njit(cache=True, _nrt=False, inline="always")
def record_size(header_size, payload_len):
    return (header_size + payload_len + 7) & ~np.int64(7)


@njit(cache=True, _nrt=False, inline="always")
def _sub(ring, b, off):
    """Flat index of the sub-buffer holding free-running offset ``off``."""
    geo = ring.geo
    return b * geo[G_NSUB] + ((off >> geo[G_SB_SHIFT]) & (geo[G_NSUB] - 1))


@njit(cache=True, _nrt=False, inline="always")
def pos(ring, b, off):
    """Index into ``ring.data`` of free-running offset ``off`` of buffer ``b``."""
    geo = ring.geo
    return (b << geo[G_TOT_SHIFT]) + (off & ((np.int64(1) << geo[G_TOT_SHIFT]) - 1))


@njit(cache=True, _nrt=False, inline="always")
def subbuf_complete(ring, b, off):
    """Is the sub-buffer holding ``off`` (in the lap of ``off``) fully committed?"""
    geo = ring.geo
    s = _sub(ring, b, off)
    lap = off >> geo[G_TOT_SHIFT]
    return (load_acquire(ring.cc, 2 * s) + load_acquire(ring.cc, 2 * s + 1)
            == (lap + 1) * geo[G_SUBBUF])


@njit(cache=True, _nrt=False, inline="always")
def _word0(payload_len, kind, flags):
    """The header's first 8 bytes: length (u32), kind (u16), flags (u16)."""
    return payload_len | (kind << 32) | (flags << 48)


@njit(cache=True, _nrt=False, inline="always")
def _commit_padding(ring, b, off, pad):
    """The rest of the sub-buffer holding ``off`` becomes padding, committed
    at once (LOCAL: only the owning CPU switches sub-buffers)."""
    atomic_add(ring.cc, 2 * _sub(ring, b, off) + LOCAL, pad)
    ring.st[b, PADDING_BYTES] += pad


@njit(cache=True, _nrt=False, inline="always")
def _spare(ring, b):
    """Index into ``ring.data`` of buffer ``b``'s spare sub-buffer."""
    geo = ring.geo
    return (geo[G_NBUF] << geo[G_TOT_SHIFT]) + b * geo[G_SUBBUF]


@njit(cache=True, _nrt=False)
def _swap_out(ring, b):
    """A writer pushes the reader past the sub-buffer it is reading: LTTng
    swapped that sub-buffer for a spare when the read began
    (``update_read_sb_index``), so the writer writes into the spare's pages
    and the reader keeps its own. Here the sub-buffer's bytes move into the
    spare now, the first moment the writer would overwrite them."""
    st = ring.st
    s = _sub(ring, b, st[b, RD])
    memcpy(ring.data, _spare(ring, b), ring.data, pos(ring, b, st[b, RD]),
           ring.geo[G_SUBBUF])
    st[b, SWAPPED] = 1
    st[b, SPARE_NREC] = ring.nrec[s]
    st[b, SPARE_DSIZE] = ring.dsize[s]


@njit(cache=True, _nrt=False, inline="always")
def reserve(ring, b, size):
    """Reserve ``size`` bytes (already rounded) on buffer ``b``.

    Returns the free-running offset of the slot, or R_LOST_* when the record
    is dropped (its counter is incremented here).
    """
    geo = ring.geo
    st = ring.st
    subbuf = geo[G_SUBBUF]
    if size > subbuf:
        st[b, LOST_BIG] += 1
        return R_LOST_BIG
    off = st[b, WR]
    in_sb = off & (subbuf - 1)
    if in_sb != 0 and in_sb + size <= subbuf:
        start = off                      # fits in the current sub-buffer
    else:
        pad = 0 if in_sb == 0 else subbuf - in_sb
        start = off + pad                # enters the next sub-buffer
        total = subbuf * geo[G_NSUB]
        # lib_ring_buffer_try_reserve_slow: its previous lap must be fully
        # committed (else a writer pins it: lost_wrap, in both modes) ...
        if start >= total and not subbuf_complete(ring, b, start - total):
            st[b, LOST_WRAP] += 1
            return R_LOST_WRAP
        if start - load_acquire(st, b * N_ST + RD) >= total:   # ... and, not consumed yet:
            if geo[G_MODE] == MODE_DISCARD:
                st[b, LOST_FULL] += 1    # discard mode drops the record,
                return R_LOST_FULL
            if st[b, READING] == st[b, RD]:
                _swap_out(ring, b)       # the reader keeps the one it reads
            else:
                st[b, OVERWRITTEN] += ring.nrec[_sub(ring, b, st[b, RD])]
            st[b, RD] += subbuf          # overwrite mode pushes the reader
        if pad:
            _commit_padding(ring, b, off, pad)
        s_new = _sub(ring, b, start)
        ring.nrec[s_new] = 0
    s = _sub(ring, b, start)
    ring.nrec[s] += 1
    end = start + size
    ring.dsize[s] = ((end - 1) & (subbuf - 1)) + 1
    store_release(st, b * N_ST + WR, end)
    st[b, RECORDED] += 1
    st[b, RECORDED_BYTES] += size
    occ = end - st[b, RD]
    if occ > st[b, MAX_OCC]:
        st[b, MAX_OCC] = occ
    return start


@njit(cache=True, _nrt=False, inline="always")
def write_header(ring, b, off, payload_len, kind, flags, ts, event, addr):
    p = pos(ring, b, off)
    d = ring.data
    store_i64(d, p, _word0(payload_len, kind, flags))
    store_i64(d, p + H_TS, ts)
    store_i64(d, p + H_EVENT, event)
    store_i64(d, p + H_ADDR, addr)
    store_i64(d, p + H_COMMIT, 0)


@njit(cache=True, _nrt=False, inline="always")
def set_flags(ring, b, off, flags):
    p = pos(ring, b, off)
    store_i64(ring.data, p, load_i64(ring.data, p) | (flags << 48))


@njit(cache=True, _nrt=False, inline="always")
def clear_flags(ring, b, off, flags):
    p = pos(ring, b, off)
    store_i64(ring.data, p, load_i64(ring.data, p) & ~(flags << 48))


@njit(cache=True, _nrt=False, inline="always")
def carries_bytes(ring):
    """Does the ring hold payload bytes (``buffer.payload = "bytes"``)?"""
    return ring.geo[G_PAYLOAD] == PAYLOAD_BYTES


@njit(cache=True, _nrt=False, inline="always")
def copy_in(ring, b, off, at, src, src_off, n):
    """memcpy ``n`` bytes of ``src`` into the slot at ``off``, ``at`` bytes
    after its header (nothing in "sizes" mode)."""
    if carries_bytes(ring):
        memcpy(ring.data, pos(ring, b, off) + ring.geo[G_HEADER] + at, src, src_off, n)


@njit(cache=True, _nrt=False, inline="always")
def zero_in(ring, b, off, at, n):
    if carries_bytes(ring):
        p = pos(ring, b, off) + ring.geo[G_HEADER] + at
        ring.data[p:p + n] = 0


@njit(cache=True, _nrt=False, inline="always")
def stage(ring, buf, at, src, src_off, n, missing):
    """A copy into a staging buffer outside the ring (a CPU's scratch, a
    task's bounce buffer): ``n`` bytes of ``src``, or zeros for a missing
    page; nothing in "sizes" mode, where those buffers are not allocated."""
    if carries_bytes(ring):
        if missing:
            buf[at:at + n] = 0
        else:
            memcpy(buf, at, src, src_off, n)


@njit(cache=True, _nrt=False, inline="always")
def write_missing(ring, b, off, n):
    """The slot's payload of ``n`` bytes is lost: zero-fill it and flag the
    record DATA_MISSING (what a tracer does when it cannot read the page)."""
    zero_in(ring, b, off, 0, n)
    set_flags(ring, b, off, F_DATA_MISSING)


@njit(cache=True, _nrt=False, inline="always")
def commit(ring, b, off, size, how, now):
    """Commit the slot at ``off`` (``how`` is C_LOCAL, C_REMOTE or C_ATOMIC).
    Stamps the commit time for the reader's delivery-latency measure."""
    store_i64(ring.data, pos(ring, b, off) + H_COMMIT, now)
    s = _sub(ring, b, off)
    if how == C_REMOTE:
        atomic_add(ring.cc, 2 * s + REMOTE, size)
        ring.st[b, COMMITS_REMOTE] += 1
    elif how == C_ATOMIC:
        atomic_add(ring.cc, 2 * s + LOCAL, size)
        ring.st[b, COMMITS_ATOMIC] += 1
    elif how == C_UNSAFE:
        local_add(ring.cc, 2 * s + LOCAL, size)     # races with the owner's
        ring.st[b, COMMITS_REMOTE] += 1
    else:
        local_add(ring.cc, 2 * s + LOCAL, size)
        ring.st[b, COMMITS_LOCAL] += 1


@njit(cache=True, _nrt=False)
def rollback_or_pad(ring, b, off, size, how, now):
    """Undo a reservation: roll it back if it is still the last one on its
    buffer (returns True), else commit it as a padding record (False)."""
    st = ring.st
    st[b, RECORDED] -= 1
    st[b, RECORDED_BYTES] -= size
    s = _sub(ring, b, off)
    ring.nrec[s] -= 1
    if st[b, WR] == off + size:
        store_release(st, b * N_ST + WR, off)
        ring.dsize[s] = off & (ring.geo[G_SUBBUF] - 1)
        return True
    set_flags(ring, b, off, F_PADDING)
    st[b, WASTED_BYTES] += size
    commit(ring, b, off, size, how, now)
    return False


@njit(cache=True, _nrt=False)
def flush(ring, b):
    """End of trace: pad and commit the rest of the current sub-buffer so the
    reader can take it (LTTng's final switch on stop). Nothing is pinned at
    that point: every probe has finished."""
    subbuf = ring.geo[G_SUBBUF]
    off = ring.st[b, WR]
    in_sb = off & (subbuf - 1)
    if in_sb != 0:
        _commit_padding(ring, b, off, subbuf - in_sb)
        store_release(ring.st, b * N_ST + WR, off + subbuf - in_sb)


@njit(cache=True, _nrt=False, inline="always")
def _verify_record(ring, b, p, length, flags, ts, addr, capture_max, n_kinds,
                   kind, arena):
    """Number of faults found in one record (0 when it is right): its header
    (length, kind, timestamp order), then, with payload bytes, its source
    address and its bytes."""
    bad = 0
    if length > capture_max or kind >= n_kinds:
        bad += 1
    if ts < ring.st[b, LAST_TS]:
        bad += 1
    if not carries_bytes(ring):
        return bad
    if addr < 0 or addr + length > arena.size:
        return bad + 1
    h = p + ring.geo[G_HEADER]
    data = ring.data
    if flags & F_DATA_MISSING:
        nonzero = np.int64(0)
        for i in range(0, length - 7, 8):       # word by word, then the tail
            nonzero |= load_i64(data, h + i)
        for i in range(length & ~np.int64(7), length):
            nonzero |= data[h + i]
        return bad + (nonzero != 0)
    return bad + (not memeq(data, h, arena, addr, length))


@njit(cache=True, _nrt=False, inline="always")
def _take(ring, b, base, nrec, dsize, t, verify, arena, capture_max, n_kinds,
          delivery_hist):
    """Deliver at ``t`` the ``nrec`` records of the sub-buffer whose bytes
    start at ``ring.data[base]`` and end ``dsize`` bytes later."""
    st = ring.st
    header = ring.geo[G_HEADER]
    p = base
    end = base + dsize
    n = 0
    while p < end:
        w0 = load_i64(ring.data, p)
        length = w0 & 0xFFFFFFFF
        flags = (w0 >> 48) & 0xFFFF
        size = record_size(header, length)
        if not flags & F_PADDING:
            n += 1
            ts = load_i64(ring.data, p + H_TS)
            if verify:
                st[b, VERIFY_ERRORS] += _verify_record(
                    ring, b, p, length, flags, ts,
                    load_i64(ring.data, p + H_ADDR), capture_max, n_kinds,
                    (w0 >> 32) & 0xFFFF, arena)
            st[b, LAST_TS] = ts
            if flags & F_DATA_MISSING:
                st[b, DATA_MISSING_DELIVERED] += 1
            hist_record(delivery_hist, t - load_i64(ring.data, p + H_COMMIT))
        p += size
    if verify and (n != nrec or p != end):
        st[b, VERIFY_ERRORS] += 1
    st[b, DELIVERED] += n
    st[b, SUBBUF_DELIVERED] += 1


@njit(cache=True, _nrt=False)
def consume(ring, b, now, ps_per_byte_x1000, verify, arena, capture_max,
            n_kinds, delivery_hist, max_subbufs):
    """The reader of buffer ``b`` wakes at ``now``: take complete sub-buffers
    strictly in order, at most ``max_subbufs`` of them, each taking
    ``subbuf_size * ps_per_byte_x1000 / 1000`` ps to read. Every record's
    delivery latency (consume time - commit time) goes into
    ``delivery_hist``. Returns the time the reader is done."""
    st = ring.st
    subbuf = ring.geo[G_SUBBUF]
    t = now
    taken = 0
    while taken < max_subbufs and st[b, RD] < load_acquire(st, b * N_ST + WR):
        rd = st[b, RD]
        if not subbuf_complete(ring, b, rd):
            break                        # a stalled sub-buffer holds back the rest
        t += subbuf * ps_per_byte_x1000 // 1000
        s = _sub(ring, b, rd)
        _take(ring, b, pos(ring, b, rd), ring.nrec[s], ring.dsize[s], t, verify,
              arena, capture_max, n_kinds, delivery_hist)
        store_release(st, b * N_ST + RD, rd + subbuf)
        taken += 1
    return t


@njit(cache=True, _nrt=False)
def begin_read(ring, b):
    """The reader takes the next sub-buffer if it is complete (LTTng's
    ``lib_ring_buffer_get_subbuf``); it is its own until :func:`end_read`.
    Returns whether it took one."""
    st = ring.st
    rd = st[b, RD]
    if rd < load_acquire(st, b * N_ST + WR) and subbuf_complete(ring, b, rd):
        st[b, READING] = rd
        return True
    return False


@njit(cache=True, _nrt=False)
def end_read(ring, b, now, verify, arena, capture_max, n_kinds, delivery_hist):
    """The read begun by :func:`begin_read` ends at ``now``: its records are
    delivered, from the spare if a writer pushed past it meanwhile (overwrite
    mode), else from the buffer, whose space it then gives back
    (``lib_ring_buffer_put_subbuf``)."""
    st = ring.st
    if st[b, SWAPPED]:
        _take(ring, b, _spare(ring, b), st[b, SPARE_NREC], st[b, SPARE_DSIZE],
              now, verify, arena, capture_max, n_kinds, delivery_hist)
        st[b, SWAPPED] = 0
    else:
        consume(ring, b, now, 0, verify, arena, capture_max, n_kinds,
                delivery_hist, 1)
    st[b, READING] = -1
