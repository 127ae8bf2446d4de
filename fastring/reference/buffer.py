"""A slow, obvious pure-Python model of the ring buffer: the kernels' oracle.

Written for reading, not speed: each CPU buffer is a list of sub-buffer
objects holding Python lists of records; bytes are a ``bytearray`` (with
``payload = "sizes"`` only the headers are written, and the reader checks
only them). Nothing
here is shared with :mod:`fastring.model.buffer` except the header layout
constants, so a bug in one is not silently copied into the other.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..model.buffer import (F_DATA_MISSING, F_PADDING, H_ADDR, H_COMMIT, H_FLAGS,
                            H_KIND, H_LEN, H_TS)

HEADER_FMT = "<IHHqqqq"   # len, kind, flags, ts, event, addr, commit


@dataclass
class SubBuffer:
    local: int = 0            # committed bytes, all laps, from the owning CPU
    remote: int = 0           # committed bytes, all laps, from other CPUs
    records: int = 0          # records reserved in the current lap
    data_end: int = 0         # end of the last record in the current lap


@dataclass
class CpuBuffer:
    subbuf_size: int
    n_subbuf: int
    header_size: int
    mode: str
    payload: str = "bytes"    # "sizes": headers only, no payload bytes
    write: int = 0            # free-running write position
    read: int = 0             # free-running read position
    sub: list = field(default_factory=list)
    data: bytearray = field(default_factory=bytearray)
    count: dict = field(default_factory=dict)
    last_ts: int = 0
    # the sub-buffer the reader holds between begin_read and end_read: its
    # read position and its own copy (bytes, records, data_end)
    reading: int | None = None
    held: tuple | None = None

    def __post_init__(self):
        self.sub = [SubBuffer() for _ in range(self.n_subbuf)]
        self.data = bytearray(self.subbuf_size * self.n_subbuf)
        self.count = dict(records=0, lost_full=0, lost_wrap=0, lost_big=0,
                          overwritten=0, padding_bytes=0, wasted_bytes=0,
                          recorded_bytes=0, subbufs_delivered=0, delivered=0,
                          max_occupancy=0, commits_local=0, commits_remote=0,
                          verify_errors=0, data_missing_delivered=0,
                          commits_atomic=0)

    # -- positions ---------------------------------------------------------
    @property
    def size(self):
        return self.subbuf_size * self.n_subbuf

    def index(self, pos):
        return (pos // self.subbuf_size) % self.n_subbuf

    def lap(self, pos):
        return pos // self.size

    def complete(self, pos):
        sb = self.sub[self.index(pos)]
        return sb.local + sb.remote == (self.lap(pos) + 1) * self.subbuf_size

    # -- writer ------------------------------------------------------------
    def reserve(self, size):
        """Offset of the new slot, or the name of the loss."""
        if size > self.subbuf_size:
            self.count["lost_big"] += 1
            return "lost_big"
        used = self.write % self.subbuf_size
        if used and used + size <= self.subbuf_size:
            start = self.write
        else:
            padding = (self.subbuf_size - used) if used else 0
            start = self.write + padding
            # the sub-buffer entered must have been fully committed in its
            # previous lap, whatever the mode (LTTng checks this first)
            previous = start - self.size
            if previous >= 0 and not self.complete(previous):
                self.count["lost_wrap"] += 1
                return "lost_wrap"
            if start - self.read >= self.size:   # not consumed yet
                if self.mode == "discard":
                    self.count["lost_full"] += 1
                    return "lost_full"
                if self.reading != self.read:    # the reader holds its own copy
                    self.count["overwritten"] += self.sub[self.index(self.read)].records
                self.read += self.subbuf_size
            if padding:
                self.sub[self.index(self.write)].local += padding
                self.count["padding_bytes"] += padding
            self.sub[self.index(start)].records = 0
        sb = self.sub[self.index(start)]
        sb.records += 1
        sb.data_end = start + size - (start // self.subbuf_size) * self.subbuf_size
        self.write = start + size
        self.count["records"] += 1
        self.count["recorded_bytes"] += size
        self.count["max_occupancy"] = max(self.count["max_occupancy"],
                                          self.write - self.read)
        return start

    def slot(self, pos):
        return pos % self.size

    def write_record(self, pos, payload: bytes, kind, flags, ts, event, addr):
        p = self.slot(pos)
        self.data[p:p + 40] = struct.pack(HEADER_FMT, len(payload), kind, flags,
                                          ts, event, addr, 0)
        if self.payload == "bytes":
            h = p + self.header_size
            self.data[h:h + len(payload)] = payload

    def commit(self, pos, size, how, now):
        """how: "local", "remote" (split counter) or "atomic" (one counter)."""
        p = self.slot(pos)
        self.data[p + H_COMMIT:p + H_COMMIT + 8] = struct.pack("<q", now)
        sb = self.sub[self.index(pos)]
        if how == "remote":
            sb.remote += size
        else:
            sb.local += size
        self.count["commits_" + how] += 1

    def rollback_or_pad(self, pos, size, how, now):
        self.count["records"] -= 1
        self.count["recorded_bytes"] -= size
        sb = self.sub[self.index(pos)]
        sb.records -= 1
        if self.write == pos + size:
            self.write = pos
            sb.data_end = pos % self.subbuf_size
            return True
        p = self.slot(pos)
        flags = struct.unpack_from("<H", self.data, p + H_FLAGS)[0]
        struct.pack_into("<H", self.data, p + H_FLAGS, flags | F_PADDING)
        self.count["wasted_bytes"] += size
        self.commit(pos, size, how, now)
        return False

    def flush(self):
        used = self.write % self.subbuf_size
        if used:
            self.sub[self.index(self.write)].local += self.subbuf_size - used
            self.count["padding_bytes"] += self.subbuf_size - used
            self.write += self.subbuf_size - used

    # -- reader ------------------------------------------------------------
    def consume(self, now, ps_per_byte_x1000, verify, arena, capture_max,
                n_kinds, max_subbufs, delivered_out=None):
        """Take complete sub-buffers in order; returns (done time, list of
        (event, flags, delivery latency) of the records taken)."""
        t = now
        taken = []
        n_taken = 0
        while n_taken < max_subbufs and self.read < self.write:
            if not self.complete(self.read):
                break
            t += self.subbuf_size * ps_per_byte_x1000 // 1000
            sb = self.sub[self.index(self.read)]
            base = self.slot(self.read)
            taken += self._take(self.data[base:base + self.subbuf_size],
                                sb.records, sb.data_end, t, verify, arena,
                                capture_max, n_kinds)
            self.read += self.subbuf_size
            n_taken += 1
        return t, taken

    def begin_read(self) -> bool:
        """The reader takes the next complete sub-buffer, if any: as LTTng
        swaps a spare sub-buffer in for it, it reads its own copy from now
        on, whatever the writers do."""
        if self.read < self.write and self.complete(self.read):
            sb = self.sub[self.index(self.read)]
            base = self.slot(self.read)
            self.reading = self.read
            self.held = (bytes(self.data[base:base + self.subbuf_size]),
                         sb.records, sb.data_end)
            return True
        return False

    def end_read(self, now, verify, arena, capture_max, n_kinds):
        """The read ends: its records are delivered; the reader gives the
        space back unless a writer already pushed it past (overwrite mode)."""
        data, records, data_end = self.held
        taken = self._take(data, records, data_end, now, verify, arena,
                           capture_max, n_kinds)
        if self.read == self.reading:
            self.read += self.subbuf_size
        self.reading = self.held = None
        return taken

    def _take(self, data, records, data_end, t, verify, arena, capture_max,
              n_kinds):
        """Deliver the records of one sub-buffer's bytes ``data``."""
        taken = []
        p = n = 0
        while p < data_end:
            length, kind, flags, ts, event, addr, committed = \
                struct.unpack_from(HEADER_FMT, data, p)
            size = (self.header_size + length + 7) // 8 * 8
            if not flags & F_PADDING:
                n += 1
                if verify:
                    self.count["verify_errors"] += self._check(
                        data, p, length, kind, flags, ts, addr, arena,
                        capture_max, n_kinds)
                self.last_ts = ts
                if flags & F_DATA_MISSING:
                    self.count["data_missing_delivered"] += 1
                taken.append((event, flags, t - committed))
            p += size
        if verify and (n != records or p != data_end):
            self.count["verify_errors"] += 1
        self.count["delivered"] += n
        self.count["subbufs_delivered"] += 1
        return taken

    def _check(self, data, p, length, kind, flags, ts, addr, arena, capture_max,
               n_kinds):
        bad = int(length > capture_max or kind >= n_kinds) + int(ts < self.last_ts)
        if self.payload == "sizes":
            return bad                    # no payload bytes to check
        if addr < 0 or addr + length > len(arena):
            return bad + 1
        got = bytes(data[p + self.header_size:p + self.header_size + length])
        want = bytes(length) if flags & F_DATA_MISSING else bytes(arena[addr:addr + length])
        return bad + int(got != want)


__all__ = ["CpuBuffer", "SubBuffer", "HEADER_FMT", "H_LEN", "H_KIND", "H_TS",
           "H_ADDR"]
