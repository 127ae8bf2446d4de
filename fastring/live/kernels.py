"""The compiled side of ``fastring live``: writer and reader passes that run
with the GIL released on shared NumPy arrays.

Each writer thread is one CPU and owns buffer ``me`` of the shared ring. It
interprets the same strategy programs as the simulator and calls the same
buffer kernels (:mod:`fastring.model.buffer`), whose cross-thread words are
acquire/release atomics. A probe lives in a *slot* (the live counterpart of a
task): its program counter, reservation and bounce buffer. When a
preemptible step is "preempted" (``live.p_preempt``), or a copy takes an
injected major fault, the slot is handed to an inbox: its own CPU's, or with
``machine.p_migrate`` another CPU's, which finishes the probe (copy, commit)
while this CPU goes on with new events in the same sub-buffer.

Inboxes are multi-producer single-consumer rings of slot numbers: a producer
claims a position with an atomic add on the tail and publishes the slot with
a release store; the owner takes entries in order with acquire loads. Each
slot sits in at most one inbox, so an inbox of ``QCAP >= slots`` never
overflows.

Times stored in records and histograms are in ps (ns * 1000), as in the
simulator, so the same summary code reads both.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from ..model import buffer as B
from .. import engine as E
from ..model import strategies as S
from .._intrinsics import (atomic_add, cycles, load_acquire, load_i64,
                           memcpy, monotonic_ns, store_release)
from ..model.histogram import N_BINS, bin_of
from ..model.rng import (S_FAULT_NS, S_MIGRATE, S_PREEMPT, S_THINK, S_WHERE,
                         exponential, fault_service_ps, next_u01, u01)
from ..world.prepare import (F_MAJOR, F_MINOR, F_PMIGRATE, F_SIGMA, F_THINK,
                             FAULT_MAJOR, P_CAPMAX, P_EVENTS, P_NKINDS, P_NTASK, P_SEED,
                             P_VERIFY, PAGE, PAYLOAD_STRING)

# slot fields
(L_STATE, L_EVENT, L_KIND, L_LEN, L_ADDR, L_PC, L_STATUS, L_FLAGS, L_MISSING,
 L_RES_BUF, L_RES_OFF, L_RES_SIZE, L_RES_PS, L_CS_SNAP, L_POFF, L_MOFF,
 L_LAST_P, L_DRAW, L_READY, L_START, L_CPU_PS, L_OFF_SUM, L_OFF_MAX,
 L_N_START, L_INJ, N_L) = range(26)
# per-thread counters (one row per writer, padded apart)
(K_EVENTS, K_RESTARTS, K_RETRIES, K_FMINOR, K_FMAJOR, K_MIGRATIONS,
 K_C_LOCAL, K_C_REMOTE, K_C_ATOMIC, K_C_UNSAFE, K_ATOMIC, K_KMALLOC,
 K_PAYLOAD, K_COPIED, K_CPU_PS, K_PREEMPT, K_HANDOFF, K_SLEEPS, K_NSW,
 K_QHEAD, K_NPEND, K_CUR, K_MAX_LAT, K_MAX_OFF, K_MAX_SEC, K_MAX_PIN,
 K_SINK, N_K) = range(28)
K_PAD = 40
# reader counters
(RK_MISMATCH, RK_DUP, RK_RECORDS, N_RK) = range(4)
# globals, one cache line apart: next event to issue, events finished, stop
G_ISSUED, G_DONE, G_STOP = 0, 8, 16
SAMPLE = 16
# a writer with something due within SPIN_PS spins for it, else naps in Python
SPIN_PS = 50_000_000
# writer_pass results
R_DONE, R_IDLE, R_BUDGET = 0, 1, 2
# event status byte: the engine's ST_* (recorded, lost_*) | DATA_MISSING bit
EV_UNFINISHED, EV_MISSING_BIT = 255, 16
PG_UNSEEN, PG_IN, PG_MAJOR, PG_INJECTED = E.PG_UNSEEN, E.PG_IN, E.PG_MAJOR, E.PG_INJECTED

Live = namedtuple("Live", "lt pages jumps bounce scratch q qt pend k h hcpu g "
                          "status seen rk delivery par fpar")
# int parameters (par) and float parameters (fpar)
P_THREADS, P_TPC, P_QCAP, P_REAL, N_LP = range(5)
FP_PREEMPT, FP_PS_PER_CYCLE, N_LF = range(3)


def new_live(world, n_threads: int, tasks_per_cpu: int, n_bounded: int,
             events: int, p_preempt: float, real_faults: bool,
             ps_per_cycle: float) -> Live:
    """Shared state of one live run (all arrays; see the module doc)."""
    n_slots = n_threads * tasks_per_cpu
    cap = max(int(world.p[P_CAPMAX]), 1)
    qcap = 1 << max(2 * n_slots - 1, 1).bit_length()
    par = np.zeros(N_LP, np.int64)
    par[P_THREADS], par[P_TPC], par[P_QCAP], par[P_REAL] = (
        n_threads, tasks_per_cpu, qcap, int(real_faults))
    fpar = np.zeros(N_LF, np.float64)
    fpar[FP_PREEMPT] = p_preempt
    fpar[FP_PS_PER_CYCLE] = ps_per_cycle
    return Live(
        np.zeros((n_slots, N_L), np.int64),
        np.zeros((n_slots, cap // PAGE + 2), np.int8),
        np.zeros((n_slots, max(n_bounded, 1)), np.int64),
        np.zeros(n_slots * cap, np.uint8), np.zeros(n_threads * cap, np.uint8),
        np.full(n_threads * qcap, -1, np.int64), np.zeros(n_threads * 8, np.int64),
        np.zeros((n_threads, n_slots), np.int64),
        np.zeros((n_threads, K_PAD), np.int64),
        np.zeros((n_threads, E.N_HISTS, N_BINS), np.int64),
        np.zeros((n_threads, N_BINS), np.int64),
        np.zeros(24, np.int64),
        np.full(events, EV_UNFINISHED, np.uint8), np.zeros(events, np.uint8),
        np.zeros(N_RK, np.int64), np.zeros(N_BINS, np.int64), par, fpar)


@njit(cache=True, _nrt=False, inline="always")
def _ps(L):
    """Now, in ps: the cycle counter scaled by the measured ratio (see
    :func:`fastring.live.threads.ps_per_cycle`), else clock_gettime."""
    r = L.fpar[FP_PS_PER_CYCLE]
    if r > 0:
        return np.int64(cycles() * r)
    return monotonic_ns() * 1000


@njit(cache=True, _nrt=False, nogil=True)
def clock_pair():
    """(cycle counter, CLOCK_MONOTONIC ns) read back to back."""
    return cycles(), monotonic_ns()


@njit(cache=True, _nrt=False, inline="always")
def _draw(w, L, slot, stream):
    return next_u01(w.p[P_SEED], stream, L.lt, slot, L_EVENT, L_DRAW)


@njit(cache=True, _nrt=False, inline="always")
def _spin_until(L, t_ps):
    while _ps(L) < t_ps:
        pass


@njit(cache=True, _nrt=False, inline="always")
def _handoff(L, me, slot, target):
    """Publish ``slot`` in ``target``'s inbox (any thread may call this)."""
    qcap = L.par[P_QCAP]
    i = atomic_add(L.qt, target * 8, 1)
    store_release(L.q, target * qcap + (i & (qcap - 1)), slot)
    if target != me:
        L.k[me, K_HANDOFF] += 1


@njit(cache=True, _nrt=False, inline="always")
def _away(w, L, me, slot, ready_ps, may_migrate):
    """The task leaves this CPU (preempted or asleep) until ``ready_ps``;
    it lands on another CPU with ``machine.p_migrate``."""
    n = L.par[P_THREADS]
    target = me
    if may_migrate and n > 1 and _draw(w, L, slot, S_MIGRATE) < w.f[F_PMIGRATE]:
        target = (me + 1 + np.int64(_draw(w, L, slot, S_WHERE) * (n - 1))) % n
    L.lt[slot, L_READY] = ready_ps
    L.lt[slot, L_LAST_P] = 0
    _handoff(L, me, slot, target)


@njit(cache=True, _nrt=False, inline="always")
def _fault(w, L, slot, state):
    """(delay_ps, is_major) of the fault on a page in ``state``: the
    injection's (used up), else a drawn service time (the simulator's)."""
    if state == PG_INJECTED:
        i = L.lt[slot, L_INJ]
        L.lt[slot, L_INJ] = -1
        return w.inj_delay[i], w.inj_kind[i] == FAULT_MAJOR
    major = state == PG_MAJOR
    return fault_service_ps(_draw(w, L, slot, S_FAULT_NS),
                            w.f[F_MAJOR] if major else w.f[F_MINOR], w.f[F_SIGMA]), major


@njit(cache=True, _nrt=False, inline="always")
def _touch(w, L, me, slot, may_fault, is_copy):
    """Touch the payload's pages. Injected faults (``faults.p_minor`` /
    ``p_major`` at an event's first touch of a page, ``faults.inject``):
    a minor one spins its service time here, a major one is returned as a
    sleep. With ``live.faults = "real"`` only ``faults.inject`` is injected;
    the real ones come from the touches. Returns (missing, sleep_ps)."""
    lt = L.lt
    length = lt[slot, L_LEN]
    if length == 0:
        return False, np.int64(0)
    addr = lt[slot, L_ADDR]
    first = addr // PAGE
    n_pages = (addr + length - 1) // PAGE - first + 1
    if is_copy and lt[slot, L_INJ] >= 0:
        L.pages[slot, 0] = PG_INJECTED
    real = L.par[P_REAL] != 0
    minor = np.int64(0)
    major = np.int64(0)
    missing = False
    sink = np.int64(0)
    for j in range(n_pages):
        sink += w.arena[max(addr, (first + j) * PAGE)]     # the real touch
        state = L.pages[slot, j]
        if state == PG_UNSEEN:
            state = PG_IN if real else E.bernoulli_page(w, L.lt[slot, L_EVENT], j)
            L.pages[slot, j] = state
        if state != PG_IN and not may_fault:
            missing = True
        elif state != PG_IN:
            d, is_major = _fault(w, L, slot, state)
            if is_major:
                major += d
                L.k[me, K_FMAJOR] += 1
            else:
                minor += d
                L.k[me, K_FMINOR] += 1
            L.pages[slot, j] = PG_IN
    L.k[me, K_SINK] += sink
    if minor:
        _spin_until(L, _ps(L) + minor)
    return missing, major


@njit(cache=True, _nrt=False, inline="always")
def _copy_user(w, ring, L, me, slot, dest):
    """copy_from_user into the slot (0), this CPU's scratch (1) or the
    task's bounce buffer (2); zeros and DATA_MISSING when a page was missing."""
    lt = L.lt
    length = lt[slot, L_LEN]
    cap = w.p[P_CAPMAX]
    missing = lt[slot, L_MISSING] != 0
    if missing:
        lt[slot, L_FLAGS] |= B.F_DATA_MISSING
    if dest == 0:
        if missing:
            B.write_missing(ring, lt[slot, L_RES_BUF], lt[slot, L_RES_OFF], length)
        else:
            B.copy_in(ring, lt[slot, L_RES_BUF], lt[slot, L_RES_OFF], 0, w.arena,
                      lt[slot, L_ADDR], length)
    else:
        buf = L.scratch if dest == 1 else L.bounce
        at = (me if dest == 1 else slot) * cap
        if missing:
            buf[at:at + length] = 0
        else:
            memcpy(buf, at, w.arena, lt[slot, L_ADDR], length)
    L.k[me, K_COPIED] += length


@njit(cache=True, _nrt=False, inline="always")
def _copy_kernel(w, ring, L, me, slot, src):
    lt = L.lt
    length = lt[slot, L_LEN]
    b, off = lt[slot, L_RES_BUF], lt[slot, L_RES_OFF]
    if lt[slot, L_FLAGS] & B.F_DATA_MISSING:
        B.write_missing(ring, b, off, length)
    else:
        buf = L.scratch if src == 1 else L.bounce
        at = (me if src == 1 else slot) * w.p[P_CAPMAX]
        B.copy_in(ring, b, off, 0, buf, at, length)
    L.k[me, K_COPIED] += length


@njit(cache=True, _nrt=False, inline="always")
def _finish(w, L, me, slot, t):
    lt = L.lt
    k = L.k
    lat = t - lt[slot, L_START]
    st = lt[slot, L_STATUS]
    if st == E.ST_RECORDED and lt[slot, L_FLAGS] & B.F_DATA_MISSING:
        st |= EV_MISSING_BIT
    L.status[lt[slot, L_EVENT]] = st
    k[me, K_EVENTS] += 1
    k[me, K_PAYLOAD] += lt[slot, L_LEN]
    k[me, K_CPU_PS] += lt[slot, L_CPU_PS]
    L.hcpu[me, bin_of(lt[slot, L_CPU_PS])] += 1
    h = L.h
    h[me, E.HIST_LATENCY, bin_of(lat)] += 1
    if lt[slot, L_EVENT] % SAMPLE == 0:
        h[me, E.HIST_PREEMPT_OFF, bin_of(lt[slot, L_OFF_SUM])] += 1
        h[me, E.HIST_PREEMPT_SECTION, bin_of(lt[slot, L_OFF_MAX])] += 1
    k[me, K_MAX_LAT] = max(k[me, K_MAX_LAT], lat)
    k[me, K_MAX_OFF] = max(k[me, K_MAX_OFF], lt[slot, L_OFF_SUM])
    k[me, K_MAX_SEC] = max(k[me, K_MAX_SEC], lt[slot, L_OFF_MAX])
    # the task thinks (as in the simulator), then its home CPU reuses the slot
    lt[slot, L_READY] = t + np.int64(exponential(
        u01(w.p[P_SEED], S_THINK, lt[slot, L_EVENT], 1), w.f[F_THINK]))
    store_release(lt, slot * N_L + L_STATE, 0)
    atomic_add(L.g, G_DONE, 1)


@njit(cache=True, _nrt=False, inline="always")
def _commit(ring, L, me, slot, op, t):
    """The commit steps on real threads: ``commit_local`` and
    ``commit_split`` on the reserving CPU add to LOCAL without a lock prefix;
    ``commit_split`` elsewhere is an atomic add to REMOTE; ``commit_atomic``
    always atomic; ``commit_unsafe`` elsewhere a plain add to LOCAL."""
    lt = L.lt
    b = lt[slot, L_RES_BUF]
    if op == S.COMMIT_ATOMIC:
        how = B.C_ATOMIC
        L.k[me, K_C_ATOMIC] += 1
    elif op == S.COMMIT_LOCAL or me == b:
        how = B.C_LOCAL
        L.k[me, K_C_LOCAL] += 1
    elif op == S.COMMIT_UNSAFE:
        how = B.C_UNSAFE
        L.k[me, K_C_UNSAFE] += 1
    else:
        how = B.C_REMOTE
        L.k[me, K_C_REMOTE] += 1
    if how == B.C_ATOMIC or how == B.C_REMOTE:
        L.k[me, K_ATOMIC] += 1
    if me != b:
        L.k[me, K_MIGRATIONS] += 1
    B.commit(ring, b, lt[slot, L_RES_OFF], lt[slot, L_RES_SIZE], how, t)
    pin = t - lt[slot, L_RES_PS]
    L.h[me, E.HIST_PIN, bin_of(pin)] += 1
    L.k[me, K_MAX_PIN] = max(L.k[me, K_MAX_PIN], pin)
    lt[slot, L_RES_SIZE] = -1


@njit(cache=True, _nrt=False)
def _run(w, ring, L, prog, me, slot):
    """Run ``slot``'s probe on CPU ``me`` until it ends or leaves the CPU."""
    lt = L.lt
    t0 = _ps(L)
    if L.k[me, K_CUR] != slot:                 # another task on this CPU
        L.k[me, K_NSW] += 1
        L.k[me, K_CUR] = slot
    if lt[slot, L_START] < 0:
        lt[slot, L_START] = t0
    t = t0
    # preempt-off sections are timed on one event in SAMPLE (two clock reads
    # each would double the cost of a probe)
    sampled = lt[slot, L_EVENT] % SAMPLE == 0
    while True:
        if lt[slot, L_LAST_P]:
            lt[slot, L_LAST_P] = 0
            if _draw(w, L, slot, S_PREEMPT) < L.fpar[FP_PREEMPT]:
                L.k[me, K_PREEMPT] += 1
                t = _ps(L)
                lt[slot, L_CPU_PS] += t - t0
                _away(w, L, me, slot, t, lt[slot, L_MOFF] == 0)
                return
        pc = lt[slot, L_PC]
        op = prog[pc, S.OP]
        arg = prog[pc, S.ARG]
        nxt = pc + 1
        length = lt[slot, L_LEN]
        dropped = lt[slot, L_STATUS] != E.ST_RECORDED
        if op == S.END:
            t = _ps(L)
            lt[slot, L_CPU_PS] += t - t0
            _finish(w, L, me, slot, t)
            return
        elif op == S.PREEMPT_OFF:
            lt[slot, L_POFF] = 1
            if sampled:
                lt[slot, L_N_START] = _ps(L)
        elif op == S.PREEMPT_ON:
            if sampled:
                sec = _ps(L) - lt[slot, L_N_START]
                lt[slot, L_OFF_SUM] += sec
                lt[slot, L_OFF_MAX] = max(lt[slot, L_OFF_MAX], sec)
            lt[slot, L_POFF] = 0
        elif op == S.MIGRATE_OFF:
            lt[slot, L_MOFF] = 1
        elif op == S.MIGRATE_ON:
            lt[slot, L_MOFF] = 0
        elif op == S.KMALLOC:
            L.k[me, K_KMALLOC] += 1
        elif op == S.KFREE:
            pass
        elif (op == S.STRNLEN or op == S.FAULT_IN or op == S.COPY_TO_SLOT
              or op == S.COPY_TO_SCRATCH or op == S.COPY_TO_BOUNCE):
            is_copy = op != S.STRNLEN and op != S.FAULT_IN
            if op == S.STRNLEN and w.kind_payload[lt[slot, L_KIND]] != PAYLOAD_STRING:
                pass
            elif op == S.COPY_TO_SLOT and dropped:
                pass
            else:
                missing, sleep = _touch(w, L, me, slot, arg == 0, is_copy)
                if is_copy:
                    lt[slot, L_MISSING] = 1 if missing else 0
                if sleep > 0:                   # a major fault: the task sleeps
                    L.k[me, K_SLEEPS] += 1
                    t = _ps(L)
                    lt[slot, L_CPU_PS] += t - t0
                    _away(w, L, me, slot, t + sleep, lt[slot, L_MOFF] == 0)
                    return                      # the step reruns, its pages in
                if is_copy:
                    _copy_user(w, ring, L, me, slot,
                               0 if op == S.COPY_TO_SLOT else (1 if op == S.COPY_TO_SCRATCH else 2))
        elif op == S.MEMCPY_SCRATCH or op == S.MEMCPY_BOUNCE:
            if not dropped:
                _copy_kernel(w, ring, L, me, slot, 1 if op == S.MEMCPY_SCRATCH else 2)
        elif op == S.RESERVE:
            size = B.record_size(ring.geo[B.G_HEADER], length)
            if arg:
                L.k[me, K_ATOMIC] += 1
            off = B.reserve(ring, me, size)     # only ever on this CPU's buffer
            if off < 0:
                lt[slot, L_STATUS] = -off
            else:
                lt[slot, L_STATUS] = E.ST_RECORDED
                lt[slot, L_RES_BUF] = me
                lt[slot, L_RES_OFF] = off
                lt[slot, L_RES_SIZE] = size
                t = _ps(L)
                lt[slot, L_RES_PS] = t
                B.write_header(ring, me, off, length, lt[slot, L_KIND],
                               lt[slot, L_FLAGS] & B.F_DATA_MISSING, t,
                               lt[slot, L_EVENT], lt[slot, L_ADDR])
        elif op == S.ROLLBACK:
            if not dropped:                     # the checker keeps it on me
                B.rollback_or_pad(ring, lt[slot, L_RES_BUF], lt[slot, L_RES_OFF],
                                  lt[slot, L_RES_SIZE], B.C_LOCAL, _ps(L))
                lt[slot, L_RES_SIZE] = -1
                lt[slot, L_FLAGS] &= ~B.F_DATA_MISSING
        elif (op == S.COMMIT_LOCAL or op == S.COMMIT_SPLIT or op == S.COMMIT_ATOMIC
              or op == S.COMMIT_UNSAFE):
            if not dropped:
                _commit(ring, L, me, slot, op, _ps(L))
        elif op == S.READ_CS:
            lt[slot, L_CS_SNAP] = L.k[me, K_NSW]
        elif op == S.RETRY_IF_CS:
            if L.k[me, K_NSW] != lt[slot, L_CS_SNAP]:
                sl = prog[pc, S.SLOT]
                if L.jumps[slot, sl] < prog[pc, S.BOUND]:
                    L.jumps[slot, sl] += 1
                    L.k[me, K_RETRIES] += 1
                    nxt = prog[pc, S.TARGET]
                else:
                    lt[slot, L_FLAGS] |= B.F_DATA_MISSING
        elif op == S.IF_MISSING:
            if lt[slot, L_MISSING]:
                sl = prog[pc, S.SLOT]
                if L.jumps[slot, sl] < prog[pc, S.BOUND]:
                    L.jumps[slot, sl] += 1
                    L.k[me, K_RESTARTS] += 1
                    lt[slot, L_MISSING] = 0
                    nxt = prog[pc, S.TARGET]
        elif op == S.GOTO:
            nxt = prog[pc, S.TARGET]
        lt[slot, L_PC] = nxt
        lt[slot, L_LAST_P] = 1 - lt[slot, L_POFF]


@njit(cache=True, _nrt=False, inline="always")
def _new_event(w, L, me, slot, ev):
    lt = L.lt
    lt[slot, :] = 0
    lt[slot, L_STATE] = 1
    lt[slot, L_EVENT] = ev
    kind, length, addr = E.draw_event(w, ev, ev % w.p[P_NTASK])
    lt[slot, L_KIND] = kind
    lt[slot, L_LEN] = length
    lt[slot, L_ADDR] = addr
    lt[slot, L_START] = -1
    lt[slot, L_RES_SIZE] = -1
    i = np.searchsorted(w.inj_event, ev)
    lt[slot, L_INJ] = i if i < w.inj_event.size and w.inj_event[i] == ev else -1
    L.pages[slot, :] = PG_UNSEEN
    L.jumps[slot, :] = 0


@njit(cache=True, _nrt=False, nogil=True)
def writer_pass(w, ring, L, prog, me, budget):
    """Writer ``me`` runs up to ``budget`` probe segments: handed-off probes
    that are ready first, else a new event in a free slot of its own.
    Returns R_DONE (every event finished, or stop asked), R_IDLE (nothing
    runnable now) or R_BUDGET."""
    qcap = L.par[P_QCAP]
    tpc = L.par[P_TPC]
    events = w.p[P_EVENTS]
    k = L.k
    for _ in range(budget):
        if load_acquire(L.g, G_STOP) or load_acquire(L.g, G_DONE) >= events:
            return R_DONE
        while True:                             # drain the inbox
            at = me * qcap + (k[me, K_QHEAD] & (qcap - 1))
            slot = load_acquire(L.q, at)
            if slot < 0:
                break
            store_release(L.q, at, -1)
            k[me, K_QHEAD] += 1
            L.pend[me, k[me, K_NPEND]] = slot
            k[me, K_NPEND] += 1
        now = _ps(L)
        ran = False
        n = k[me, K_NPEND]
        for i in range(n):                      # oldest ready first
            slot = L.pend[me, i]
            if L.lt[slot, L_READY] <= now:
                for j in range(i, n - 1):
                    L.pend[me, j] = L.pend[me, j + 1]
                k[me, K_NPEND] = n - 1
                _run(w, ring, L, prog, me, slot)
                ran = True
                break
        if ran:
            continue
        nxt = now + SPIN_PS
        for i in range(n):
            nxt = min(nxt, L.lt[L.pend[me, i], L_READY])
        if load_acquire(L.g, G_ISSUED) < events:
            for j in range(tpc):
                slot = me * tpc + j
                if load_acquire(L.lt, slot * N_L + L_STATE) == 0:
                    if L.lt[slot, L_READY] > now:          # still thinking
                        nxt = min(nxt, L.lt[slot, L_READY])
                        continue
                    ev = atomic_add(L.g, G_ISSUED, 1)
                    if ev < events:
                        _new_event(w, L, me, slot, ev)
                        _run(w, ring, L, prog, me, slot)
                        ran = True
                    break
        if not ran and nxt >= now + SPIN_PS:
            return R_IDLE                       # nothing due soon: nap
    return R_BUDGET


@njit(cache=True, _nrt=False, nogil=True)
def reader_pass(w, ring, L):
    """The consumer: every complete sub-buffer of every buffer, in order.
    Each record's header must be the event's (kind, length, address are a
    function of its event id, :func:`fastring.engine.draw_event`) and each
    event delivered once; then :func:`fastring.model.buffer.consume` checks the
    payload bytes and timestamps. Returns the sub-buffers consumed."""
    geo = ring.geo
    header = geo[B.G_HEADER]
    events = w.p[P_EVENTS]
    taken = 0
    for b in range(geo[B.G_NBUF]):
        while True:
            rd = ring.st[b, B.RD]
            if rd >= load_acquire(ring.st, b * B.N_ST + B.WR) or not B.subbuf_complete(ring, b, rd):
                break
            p = B.pos(ring, b, rd)
            end = p + ring.dsize[B._sub(ring, b, rd)]
            while p < end:
                w0 = load_i64(ring.data, p)
                length = w0 & 0xFFFFFFFF
                if not (w0 >> 48) & B.F_PADDING:
                    L.rk[RK_RECORDS] += 1
                    ev = load_i64(ring.data, p + B.H_EVENT)
                    if ev < 0 or ev >= events:
                        L.rk[RK_MISMATCH] += 1
                    else:
                        kind, n, addr = E.draw_event(w, ev, ev % w.p[P_NTASK])
                        if (kind != (w0 >> 32) & 0xFFFF or n != length
                                or addr != load_i64(ring.data, p + B.H_ADDR)):
                            L.rk[RK_MISMATCH] += 1
                        if L.seen[ev] > 0:
                            L.rk[RK_DUP] += 1
                        if L.seen[ev] < 255:
                            L.seen[ev] += 1
                p += B.record_size(header, length)
            B.consume(ring, b, _ps(L), 0, w.p[P_VERIFY] != 0, w.arena,
                      w.p[P_CAPMAX], w.p[P_NKINDS], L.delivery, 1)
            taken += 1
    return taken


@njit(cache=True, _nrt=False, nogil=True)
def flush_all(ring):
    """End of the run (writers stopped): pad every buffer's last sub-buffer."""
    for b in range(ring.geo[B.G_NBUF]):
        B.flush(ring, b)
