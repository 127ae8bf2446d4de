"""The ring-buffer kernels, rule by rule and against the pure-Python oracle."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from fastring.model import buffer as B
from fastring.model.histogram import N_BINS
from fastring.reference.buffer import CpuBuffer

HDR = B.HEADER_MIN
HOW = {"local": B.C_LOCAL, "remote": B.C_REMOTE, "atomic": B.C_ATOMIC}
ARENA = np.random.default_rng(7).integers(0, 256, 1 << 16, dtype=np.uint8)


class Pair:
    """Drives the kernels and the reference side by side."""

    def __init__(self, n_bufs=1, subbuf=256, n_sub=4, mode="discard", header=HDR,
                 payload="bytes"):
        self.ring = B.new_ring(n_bufs, subbuf, n_sub, header, mode, payload)
        self.ref = [CpuBuffer(subbuf, n_sub, header, mode, payload)
                    for _ in range(n_bufs)]
        self.header = header
        self.hist = np.zeros(N_BINS, np.int64)
        self.event = 0

    def reserve(self, b, length, ts=0, addr=0, flags=0):
        size = B.record_size(self.header, length)
        off = B.reserve(self.ring, b, size)
        roff = self.ref[b].reserve(size)
        assert (off if off >= 0 else {-1: "lost_full", -2: "lost_wrap", -3: "lost_big"}[off]) == roff
        if off >= 0:
            payload = bytes(length) if flags & B.F_DATA_MISSING else bytes(ARENA[addr:addr + length])
            B.write_header(self.ring, b, off, length, 0, flags, ts, self.event, addr)
            if not flags & B.F_DATA_MISSING:
                B.copy_in(self.ring, b, off, 0, ARENA, addr, length)
            else:
                B.zero_in(self.ring, b, off, 0, length)
            self.ref[b].write_record(off, payload, 0, flags, ts, self.event, addr)
        self.event += 1
        return off, size

    def commit(self, b, off, size, how="local", now=0):
        B.commit(self.ring, b, off, size, HOW[how], now)
        self.ref[b].commit(off, size, how, now)

    def rollback(self, b, off, size, now=0):
        got = B.rollback_or_pad(self.ring, b, off, size, B.C_LOCAL, now)
        assert got == self.ref[b].rollback_or_pad(off, size, "local", now)
        return got

    def consume(self, b, now=0, max_subbufs=1 << 30):
        rd0 = int(self.ring.st[b, B.RD])
        t = B.consume(self.ring, b, now, 1000, True, ARENA, 4096, 1, self.hist, max_subbufs)
        rt, taken = self.ref[b].consume(now, 1000, True, ARENA, 4096, 1, max_subbufs)
        assert t == rt
        return taken, rd0

    def begin_read(self, b):
        got = B.begin_read(self.ring, b)
        assert got == self.ref[b].begin_read()
        return got

    def end_read(self, b, now=0):
        B.end_read(self.ring, b, now, True, ARENA, 4096, 1, self.hist)
        return self.ref[b].end_read(now, True, ARENA, 4096, 1)

    def check_same(self):
        for b, ref in enumerate(self.ref):
            st = dict(zip(B.ST_NAMES, self.ring.st[b].tolist()))
            assert st["wr"] == ref.write and st["rd"] == ref.read
            assert st["reading"] == (-1 if ref.reading is None else ref.reading)
            for k, v in ref.count.items():
                assert st[k] == v, (b, k, st[k], v)
            n = ref.n_subbuf
            for s, sb in enumerate(ref.sub):
                i = b * n + s
                assert self.ring.cc[2 * i] == sb.local and self.ring.cc[2 * i + 1] == sb.remote
                assert self.ring.nrec[i] == sb.records
            size = ref.size
            assert bytes(self.ring.data[b * size:(b + 1) * size]) == bytes(ref.data)

    def st(self, b, name):
        return int(self.ring.st[b, B.ST_NAMES.index(name)])


def test_geometry_is_checked():
    with pytest.raises(ValueError, match="subbuf_size"):
        B.new_ring(1, 300, 4)
    with pytest.raises(ValueError, match="n_subbuf"):
        B.new_ring(1, 256, 3)
    with pytest.raises(ValueError, match="header_size"):
        B.new_ring(1, 256, 4, header_size=44)
    with pytest.raises(ValueError, match="buffer.payload must be one of"):
        B.new_ring(1, 256, 4, payload="none")


def test_record_is_8_byte_aligned():
    assert B.record_size(HDR, 0) == 40
    assert B.record_size(HDR, 1) == 48
    assert B.record_size(HDR, 8) == 48
    assert B.record_size(HDR, 9) == 56


def test_switch_pads_the_rest_and_commits_it():
    p = Pair(subbuf=256)
    off1, s1 = p.reserve(0, 150)          # 192 bytes
    off2, s2 = p.reserve(0, 50)           # 96: does not fit in 64 left
    assert off1 == 0 and off2 == 256
    assert p.st(0, "padding_bytes") == 64
    assert p.ring.cc[0] == 64             # padding committed at once, LOCAL
    p.commit(0, off1, s1)
    assert B.subbuf_complete(p.ring, 0, 0)
    p.check_same()


def test_discard_mode_full_buffer_drops_record():
    p = Pair(subbuf=256, n_sub=2, mode="discard")
    for _ in range(2):
        off, size = p.reserve(0, 216)     # 256: one per sub-buffer
        p.commit(0, off, size)
    off, _ = p.reserve(0, 8)
    assert off == B.R_LOST_FULL and p.st(0, "lost_full") == 1
    assert p.st(0, "wr") == 512           # a dropped record moves nothing
    taken, _ = p.consume(0)
    assert len(taken) == 2
    off, _ = p.reserve(0, 8)              # space again after the reader
    assert off == 512
    p.check_same()


def test_overwrite_mode_pushes_reader_over_committed_subbuffer():
    p = Pair(subbuf=256, n_sub=2, mode="overwrite")
    for _ in range(3):
        off, size = p.reserve(0, 80)      # 120 bytes: two per sub-buffer
        p.commit(0, off, size)
    off, size = p.reserve(0, 80)
    p.commit(0, off, size)
    off, size = p.reserve(0, 80)          # enters sub-buffer 0 again, lap 1
    assert off == 512
    assert p.st(0, "overwritten") == 2 and p.st(0, "rd") == 256
    p.check_same()


def test_wrap_onto_uncommitted_subbuffer_is_lost_wrap_in_both_modes():
    """lib_ring_buffer_try_reserve_slow checks the next sub-buffer's commit
    count before it checks for a full buffer: a pinned sub-buffer gives
    lost_wrap in discard mode too, never lost_full."""
    for mode in ("overwrite", "discard"):
        p = Pair(subbuf=256, n_sub=2, mode=mode)
        pinned, pinned_size = p.reserve(0, 216)   # never committed: pinned
        off, size = p.reserve(0, 216)
        p.commit(0, off, size)
        off, _ = p.reserve(0, 8)
        assert off == B.R_LOST_WRAP and p.st(0, "lost_wrap") == 1, mode
        assert p.st(0, "lost_full") == 0 and p.st(0, "overwritten") == 0, mode
        taken, _ = p.consume(0)
        assert taken == []                # stalled sub-buffer holds back the next
        p.commit(0, pinned, pinned_size)
        taken, _ = p.consume(0)
        assert [e for e, _, _ in taken] == [0, 1]
        p.check_same()


def test_overwrite_mode_reader_keeps_the_subbuffer_it_reads():
    """update_read_sb_index: the reader holds the sub-buffer it reads (LTTng
    swapped a spare in for it); a writer wrapping round pushes the reader
    past it and overwrites the NEXT one, and the read still delivers every
    record of the one taken, bytes intact."""
    p = Pair(subbuf=256, n_sub=2, mode="overwrite")
    for i in range(4):                    # two records per sub-buffer
        off, size = p.reserve(0, 80, ts=i, addr=100 * i)
        p.commit(0, off, size)
    assert p.begin_read(0)                # the reader takes sub-buffer 0
    for i in range(4, 8):                 # lap 1 over both sub-buffers
        off, size = p.reserve(0, 80, ts=i, addr=100 * i)
        p.commit(0, off, size)
    # entering sub-buffer 0 again pushed the reader past it without loss;
    # entering sub-buffer 1 overwrote its two records
    assert p.st(0, "overwritten") == 2 and p.st(0, "rd") == 512
    taken = p.end_read(0, now=10)
    assert [e for e, _, _ in taken] == [0, 1]
    assert p.st(0, "delivered") == 2 and p.st(0, "verify_errors") == 0
    assert p.st(0, "rd") == 512           # already pushed: nothing to give back
    assert p.begin_read(0)                # sub-buffer 0, lap 1
    assert [e for e, _, _ in p.end_read(0)] == [4, 5]
    assert p.st(0, "rd") == 768
    assert p.begin_read(0) is False       # sub-buffer 1, lap 1: still written
    off, size = p.reserve(0, 8, ts=8)     # switches: pads and completes it
    p.commit(0, off, size)
    assert p.begin_read(0)
    assert [e for e, _, _ in p.end_read(0)] == [6, 7]
    assert p.st(0, "rd") == 1024 and p.st(0, "verify_errors") == 0
    p.check_same()


def test_discard_mode_read_frees_space_only_when_it_ends():
    p = Pair(subbuf=256, n_sub=2, mode="discard")
    for _ in range(2):
        off, size = p.reserve(0, 216)
        p.commit(0, off, size)
    assert p.begin_read(0)
    off, _ = p.reserve(0, 8)
    assert off == B.R_LOST_FULL           # the sub-buffer being read is not free
    assert [e for e, _, _ in p.end_read(0)] == [0]
    off, _ = p.reserve(0, 8)
    assert off == 512
    p.check_same()


def test_record_larger_than_subbuffer_is_lost_big():
    p = Pair(subbuf=256)
    off, _ = p.reserve(0, 300)
    assert off == B.R_LOST_BIG and p.st(0, "lost_big") == 1 and p.st(0, "wr") == 0
    p.check_same()


def test_commit_from_another_cpu_goes_to_remote_counter():
    p = Pair(n_bufs=2, subbuf=256)
    off, size = p.reserve(1, 100)
    p.commit(1, off, size, how="remote")
    assert p.ring.cc[2 * 4 + 1] == size and p.ring.cc[2 * 4] == 0
    assert p.st(1, "commits_remote") == 1
    off, size = p.reserve(1, 10)
    p.commit(1, off, size, how="atomic")            # the one shared counter
    assert p.ring.cc[2 * 4] == size and p.st(1, "commits_atomic") == 1
    p.check_same()


def test_rollback_when_last_else_commit_as_padding():
    p = Pair(subbuf=256)
    a, sa = p.reserve(0, 20)
    assert p.rollback(0, a, sa) is True and p.st(0, "wr") == 0
    a, sa = p.reserve(0, 20)
    b_, sb = p.reserve(0, 20)
    assert p.rollback(0, a, sa) is False  # not the last: becomes padding
    assert p.st(0, "wasted_bytes") == sa and p.ring.cc[0] == sa
    p.commit(0, b_, sb)
    c, sc = p.reserve(0, 256 - 40 - sa - sb)
    p.commit(0, c, sc)
    taken, _ = p.consume(0)
    assert [e for e, _, _ in taken] == [2, 3]   # the padded record is skipped
    p.check_same()


def test_delivery_only_when_complete():
    p = Pair(subbuf=256, n_sub=4)
    a, sa = p.reserve(0, 100)
    b_, sb = p.reserve(0, 100)            # switches: sub-buffer 0 = a + padding
    assert p.consume(0)[0] == []
    p.commit(0, b_, sb)
    assert p.consume(0)[0] == []          # sub-buffer 0 still waits for a
    p.commit(0, a, sa)
    taken, _ = p.consume(0, now=5000)
    assert [e for e, _, _ in taken] == [0]
    assert taken[0][2] == 5000 + 256      # delivery latency: read time incl. 1 ps/byte
    p.check_same()


def test_verification_catches_a_corrupt_byte_and_bad_timestamp():
    p = Pair(subbuf=256)
    a, sa = p.reserve(0, 100, ts=10, addr=5)
    p.commit(0, a, sa)
    p.ring.data[B.pos(p.ring, 0, a) + HDR + 7] ^= 1
    b_, sb = p.reserve(0, 100, ts=5, addr=9)     # timestamp goes backwards
    p.commit(0, b_, sb)
    B.flush(p.ring, 0)
    B.consume(p.ring, 0, 0, 1000, True, ARENA, 4096, 1, p.hist, 10)
    assert p.st(0, "verify_errors") == 2


def test_sizes_mode_moves_no_payload_byte_and_checks_headers_only():
    """buffer.payload = "sizes": the slot's payload bytes stay untouched
    (zeros), so a flipped payload byte goes unseen; a header fault does not."""
    p = Pair(subbuf=256, payload="sizes")
    a, sa = p.reserve(0, 100, ts=10, addr=5)
    p.commit(0, a, sa)
    at = B.pos(p.ring, 0, a) + HDR
    assert not p.ring.data[at:at + 100].any()
    p.ring.data[at + 7] ^= 1
    b_, sb = p.reserve(0, 100, ts=5, addr=9)     # timestamp goes backwards
    p.commit(0, b_, sb)
    B.flush(p.ring, 0)
    B.consume(p.ring, 0, 0, 1000, True, ARENA[:0], 4096, 1, p.hist, 10)
    assert p.st(0, "verify_errors") == 1 and p.st(0, "delivered") == 2
    buf = np.ones(8, np.uint8)
    B.stage(p.ring, buf, 0, ARENA, 0, 8, False)  # no staging copy either
    assert buf.tolist() == [1] * 8


def test_data_missing_record_must_be_zero():
    p = Pair(subbuf=256)
    a, sa = p.reserve(0, 64, addr=3, flags=B.F_DATA_MISSING)
    p.commit(0, a, sa)
    p.ref[0].flush()
    B.flush(p.ring, 0)
    p.consume(0)
    assert p.st(0, "verify_errors") == 0 and p.st(0, "data_missing_delivered") == 1
    p.check_same()


# -- random interleavings ----------------------------------------------------

op = st.one_of(
    st.tuples(st.just("reserve"), st.integers(0, 2), st.integers(0, 600)),
    st.tuples(st.just("commit"), st.integers(0, 50), st.integers(0, 3)),
    st.tuples(st.just("rollback"), st.integers(0, 50), st.just(0)),
    st.tuples(st.just("consume"), st.integers(0, 2), st.integers(1, 3)),
    st.tuples(st.just("read"), st.integers(0, 2), st.just(0)),  # begin or end
)


@settings(max_examples=150, deadline=None)
@given(mode=st.sampled_from(["discard", "overwrite"]),
       subbuf=st.sampled_from([256, 512]), n_sub=st.sampled_from([2, 4]),
       payload=st.sampled_from(["bytes", "sizes"]),
       ops=st.lists(op, max_size=120))
def test_random_interleavings_match_reference(mode, subbuf, n_sub, payload, ops):
    p = Pair(n_bufs=3, subbuf=subbuf, n_sub=n_sub, mode=mode, payload=payload)
    pending = []          # (buffer, offset, size) reserved, not yet committed
    committed = {}        # buffer -> bytes committed by records
    attempts = [0, 0, 0]
    now = 0
    delivered = [[], [], []]
    for kind, a, c in ops:
        now += 1000
        if kind == "reserve":
            attempts[a] += 1
            off, size = p.reserve(a, c, ts=now, addr=(c * 37) % 4096)
            if off >= 0:
                pending.append((a, off, size))
        elif kind == "commit" and pending:
            b, off, size = pending.pop(a % len(pending))      # out of order
            how = "atomic" if c == 3 else ("local" if c == b else "remote")
            p.commit(b, off, size, how=how, now=now)
        elif kind == "rollback" and pending:
            b, off, size = pending.pop(a % len(pending))
            p.rollback(b, off, size, now=now)
        elif kind == "read":
            if p.ref[a].reading is None:
                p.begin_read(a)
            else:
                delivered[a] += [e for e, _, _ in p.end_read(a, now=now)]
        elif kind == "consume" and p.ref[a].reading is None:
            before = p.ref[a].count["subbufs_delivered"]
            taken, _ = p.consume(a, now=now, max_subbufs=c)
            delivered[a] += [e for e, _, _ in taken]
            ref = p.ref[a]
            if ref.count["subbufs_delivered"] - before < c and ref.read < ref.write:
                assert not ref.complete(ref.read)    # stopped only at an incomplete one
        p.check_same()
    for b, off, size in pending:                     # finish: commit, flush, drain
        p.commit(b, off, size, now=now)
    for b in range(3):
        if p.ref[b].reading is not None:
            delivered[b] += [e for e, _, _ in p.end_read(b, now=now)]
        B.flush(p.ring, b)
        p.ref[b].flush()
        taken, _ = p.consume(b, now=now)
        delivered[b] += [e for e, _, _ in taken]
    p.check_same()
    for b in range(3):
        ref = p.ref[b]
        c = ref.count
        # recorded + lost (by cause) = attempts; rolled-back/padded records left 'records'
        rolled = attempts[b] - c["records"] - c["lost_full"] - c["lost_wrap"] - c["lost_big"]
        assert rolled >= 0
        # every reserved byte committed exactly once: the sum of the counters is
        # the write position (each sub-buffer complete after the final flush)
        assert sum(s.local + s.remote for s in ref.sub) == ref.write
        assert ref.read == ref.write          # everything complete was delivered
        assert c["verify_errors"] == 0
        assert c["delivered"] + c["overwritten"] == c["records"]
        assert delivered[b] == sorted(delivered[b])
