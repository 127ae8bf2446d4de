"""The compiled discrete-event engine: tasks, CPUs, faults, probes, readers.

One heap of pending happenings orders everything in simulated time
(picoseconds, int64): a task's next probe step, a task waking (end of think
time or of a major fault), a reader's next wake. Ties break on the heap code
(tasks by index, then readers), so a run is a pure function of its inputs.
A running task executes its steps back to back without touching the heap
while its next step comes before anything else pending, and a task that
gets an idle CPU goes straight to its first step the same way: the same
order as pushing and popping, only cheaper.

A probe is a strategy program (see :mod:`fastring.strategies`) interpreted
step by step. Each step's effects happen at its start time; its duration is
its cost from the profile plus any minor fault it takes. A major fault sleeps:
the task leaves the CPU for the fault's service time, the CPU runs other
tasks, and the step resumes (possibly on another CPU) when the page is in.
A preemptible step may be preempted at its end, with probability
``1 - exp(-duration / timeslice)``, when another task is ready on that CPU; a
task made ready again lands on another CPU with probability ``p_migrate``
unless migration is disabled.

The engine runs in chunks (:func:`run_chunk` returns after a number of
completed events) so that callers can stream per-event rows and show
progress; stopping between two happenings changes nothing.
"""
from __future__ import annotations

from collections import namedtuple

import math

import numpy as np
from numba import njit

from . import buffer as B
from . import strategies as S
from .costs import COST_KEYS
from .histogram import N_BINS, bin_of
from .rng import (S_ADDR, S_EVICT, S_FAULT_NS, S_KIND, S_LEN, S_MIGRATE,
                  S_PAGE, S_PREEMPT, S_THINK, S_WHERE, exponential,
                  lognormal, u01)
from .world import (KIND_GUIDE, F_MAJOR, F_MINOR, F_PMAJ_MISSING, F_PMAJOR, F_PMIGRATE,
                    F_PMINOR, F_RECLAIM, F_RESIDENCY, F_SIGMA, F_THINK, FAULT_MAJOR,
                    FAULT_MINOR, P_ARENA, P_CAPMAX, P_EVENTS, P_MAXPG,
                    P_NCPU, P_NKINDS, P_NPAGES, P_NTASK, P_PERIOD, P_READ_PSB,
                    P_SEED, P_TIMESLICE, P_VERIFY, P_FMODEL, P_LOOPS, P_TRACE, PAGE,
                    PAYLOAD_NONE, PAYLOAD_STRING)

(C_CLOCK, C_LADD, C_AADD, C_AADD_CONT, C_LCMPXCHG, C_ACMPXCHG, C_POFF, C_PON,
 C_MOFF, C_MON, C_MCALL, C_MBYTE, C_CFU, C_STRNLEN, C_KMALLOC, C_CSREAD,
 C_SWITCH, C_UCALL, C_UBYTE) = range(len(COST_KEYS))

# task states
THINK, READY, RUN, SLEEP, DONE = range(5)
# task fields; those a new event resets are contiguous (one slice store
# each: 0 from T_PC to T_PIN, -1 from T_START to T_COMMIT_CPU)
(T_STATE, T_CPU, T_EVENT, T_KIND, T_LEN, T_ADDR, T_RES_OFF, T_RES_TIME,
 T_CS_SNAP, T_N_START, T_LAST_DUR, T_LAST_P,
 T_PC, T_PHASE, T_DRAW, T_FLAGS, T_MISSING, T_MISS_IN, T_STATUS, T_POFF,
 T_MOFF, T_OFF_SUM, T_OFF_MAX, T_CPU_PS, T_FMINOR, T_FMAJOR, T_RESTARTS,
 T_RETRIES, T_INJ_KIND, T_INJ_DELAY, T_STEP_MINOR, T_PIN,
 T_START, T_RES_SIZE, T_RES_BUF, T_RES_CPU, T_COMMIT_CPU, T_SEQ,
 N_T) = range(39)
# where a user copy writes / a kernel memcpy reads; T_MISS_IN has bit
# ``1 << D_SCRATCH`` or ``1 << D_BOUNCE`` set while that buffer holds zeros
# for a missing page (each copy's outcome belongs to the bytes it wrote);
# the slot's is the record's DATA_MISSING flag (T_FLAGS, and its header).
D_SLOT, D_SCRATCH, D_BOUNCE = 0, 1, 2
# event status
ST_RECORDED, ST_LOST_FULL, ST_LOST_WRAP, ST_LOST_BIG = 0, 1, 2, 3
# cpu fields; a CPU's run queue is a FIFO list of tasks linked through
# ``State.rq`` (``rq[task]``: the task queued after it), from C_RQ_HEAD to
# C_RQ_TAIL: a task waits in at most one queue, so n_tasks links serve every
# CPU (a square n_cpus x n_tasks array took 32 MB at 1024 CPUs)
C_CUR, C_NSW, C_RQ_HEAD, C_RQ_LEN, C_RQ_TAIL, N_C = range(6)
# global fields
(G_ISSUED, G_COMPLETED, G_HEAP, G_TASKS_DONE, G_NOW, G_ROWS, G_INJ,
 G_STEPS, N_G) = range(9)
# counters
(K_EVENTS, K_RESTARTS, K_RETRIES, K_FMINOR, K_FMAJOR, K_MIGRATIONS,
 K_ATOMIC, K_KMALLOC, K_PAYLOAD, K_COPIED, K_DATA_MISSING, K_CPU_PS,
 K_MAX_LAT, K_MAX_OFF, K_MAX_SEC, K_MAX_PIN, K_PREEMPTIONS, K_SLEEPS,
 K_LOST_EVENTS, K_INJ_UNAPPLIED, N_K) = range(21)
# histograms
H_LAT, H_OFF, H_SEC, H_PIN, H_DELIV, N_H = range(6)
HIST_NAMES = ("latency", "preempt_off", "preempt_section", "pin", "delivery")
# per-event table columns (int64; times in ps)
EVENT_COLUMNS = ("event", "task", "kind", "payload_len", "start_ps", "end_ps",
                 "reserve_cpu", "commit_cpu", "status", "flags",
                 "faults_minor", "faults_major", "restarts", "retries",
                 "preempt_off_ps", "preempt_section_ps", "pin_ps", "cpu_ps",
                 "user_addr")
N_E = len(EVENT_COLUMNS)
# the task field behind each column (-1: task index and end time, set apart)
EVENT_FIELDS = (T_EVENT, -1, T_KIND, T_LEN, T_START, -1, T_RES_CPU,
                T_COMMIT_CPU, T_STATUS, T_FLAGS, T_FMINOR, T_FMAJOR,
                T_RESTARTS, T_RETRIES, T_OFF_SUM, T_OFF_MAX, T_PIN, T_CPU_PS,
                T_ADDR)
# page states of the current event (per task)
PG_UNSEEN, PG_IN, PG_MINOR, PG_MAJOR, PG_INJECTED = 0, 1, 2, 3, 4

State = namedtuple("State", "g k h t c rq pages reclaim jumps resident scratch "
                            "bounce heap_t heap_v rows delivery")


def new_state(world, ring, n_bounded: int, rows_cap: int) -> State:
    p = world.p
    n_cpus, n_tasks = int(p[P_NCPU]), int(p[P_NTASK])
    cap = int(p[P_CAPMAX])
    n_heap = n_tasks + n_cpus + 1
    return State(
        np.zeros(N_G, np.int64), np.zeros(N_K, np.int64),
        np.zeros((N_H, N_BINS), np.int64), np.zeros((n_tasks, N_T), np.int64),
        np.zeros((n_cpus, N_C), np.int64), np.full(n_tasks, -1, np.int64),
        np.zeros((n_tasks, int(p[P_MAXPG])), np.int8),
        np.zeros((n_tasks, int(p[P_MAXPG])), np.int64),
        np.zeros((n_tasks, max(n_bounded, 1)), np.int64),
        np.zeros(int(p[P_NPAGES]), np.int64),
        np.zeros(n_cpus * max(cap, 1), np.uint8),
        np.zeros(n_tasks * max(cap, 1), np.uint8),
        np.zeros(n_heap, np.int64), np.zeros(n_heap, np.int64),
        np.zeros((rows_cap, N_E), np.int64),
        np.zeros(N_BINS, np.int64))


# -- the queue of pending happenings: (time, code), smallest first ------------
# A 4-ary heap (half the depth of a binary one) of pairs ``(heap_t[i],
# heap_v[i])``, compared without branches on the comparison's outcome (which
# a CPU cannot predict): faster than the binary heap it replaces, 1.06x at
# 20 entries, 1.25-1.3x at 320 to 5120 (``benchmarks/heap_variants.py``).
# Codes are unique among pending entries (a task or a reader is pending at
# most once), so the pop order is the total order of the pairs, whatever the
# heap's shape: the same as ``heapq`` in the reference. Packing (time, code)
# into one int64 key was 1.5-1.6x faster still, but would take the code's
# bits from time; time keeps all 64 bits.

@njit(cache=True, _nrt=False, inline="always")
def _less(ta, va, tb, vb):
    return (ta < tb) | ((ta == tb) & (va < vb))


@njit(cache=True, _nrt=False, inline="always")
def heap_push(s, t, v):
    ht, hv = s.heap_t, s.heap_v
    i = s.g[G_HEAP]
    s.g[G_HEAP] = i + 1
    while i > 0:
        parent = (i - 1) >> 2
        pt, pv = ht[parent], hv[parent]
        if not _less(t, v, pt, pv):
            break
        ht[i] = pt
        hv[i] = pv
        i = parent
    ht[i] = t
    hv[i] = v


@njit(cache=True, _nrt=False, inline="always")
def _min_child(ht, hv, c, end):
    """The smallest of the children ``c`` to ``end - 1``, with conditional
    moves, not branches."""
    ct, cv = ht[c], hv[c]
    for j in range(c + 1, end):
        jt, jv = ht[j], hv[j]
        smaller = _less(jt, jv, ct, cv)
        c = j if smaller else c
        ct = jt if smaller else ct
        cv = jv if smaller else cv
    return c, ct, cv


@njit(cache=True, _nrt=False, inline="always")
def heap_pop(s):
    ht, hv = s.heap_t, s.heap_v
    n = s.g[G_HEAP] - 1
    s.g[G_HEAP] = n
    t0, v0 = ht[0], hv[0]
    t, v = ht[n], hv[n]
    i = 0
    while True:
        c = 4 * i + 1
        if c >= n:
            break
        if c + 4 <= n:                      # a constant trip count: unrolled
            c, ct, cv = _min_child(ht, hv, c, c + 4)
        else:
            c, ct, cv = _min_child(ht, hv, c, n)
        if not _less(ct, cv, t, v):
            break
        ht[i] = ct
        hv[i] = cv
        i = c
    ht[i] = t
    hv[i] = v
    return t0, v0


@njit(cache=True, _nrt=False, inline="always")
def _pending_before(s, t, code):
    """Does a pending happening come before ``code``'s at ``t``? If not,
    running it now is the same as pushing and popping it."""
    return s.g[G_HEAP] > 0 and not _less(t, code, s.heap_t[0], s.heap_v[0])


# -- the scheduler ------------------------------------------------------------

@njit(cache=True, _nrt=False, inline="always")
def _draw(w, s, task, stream):
    """Next uniform of this task's current event (counter per event)."""
    k = s.t[task, T_DRAW]
    s.t[task, T_DRAW] = k + 1
    return u01(w.p[P_SEED], stream, s.t[task, T_EVENT], k)


@njit(cache=True, _nrt=False, inline="always")
def _preempted(u, dur, timeslice):
    """``u < 1 - exp(-dur / timeslice)``: is a task preempted at the end of
    a preemptible step of ``dur`` ps, given its uniform draw ``u``?

    Since ``1 - exp(-x) <= x``, a draw above ``x`` (plus a margin far wider
    than the formula's rounding) answers without ``exp``: the same answer,
    and the usual case (steps are ns, timeslices ms), where ``exp`` cost
    ~8 ns per preemptible step whenever another task was ready."""
    x = dur / float(timeslice)
    if u >= x + 1e-9:
        return False
    return u < 1.0 - math.exp(-x)


@njit(cache=True, _nrt=False, inline="always")
def _start(w, s, cpu, task):
    """``task`` gets ``cpu``; its next step comes after a context switch
    (the caller schedules it, or runs it at once when nothing comes first)."""
    s.c[cpu, C_CUR] = task
    s.c[cpu, C_NSW] += 1
    s.t[task, T_STATE] = RUN
    s.t[task, T_CPU] = cpu
    s.t[task, T_LAST_P] = 0


@njit(cache=True, _nrt=False, inline="always")
def _release(w, s, cpu, t):
    """The running task leaves ``cpu``; the next ready one (FIFO) gets it."""
    s.c[cpu, C_CUR] = -1
    if s.c[cpu, C_RQ_LEN] > 0:
        task = s.c[cpu, C_RQ_HEAD]
        s.c[cpu, C_RQ_HEAD] = s.rq[task]
        s.c[cpu, C_RQ_LEN] -= 1
        _start(w, s, cpu, task)
        heap_push(s, t + w.costs[C_SWITCH], task)


@njit(cache=True, _nrt=False, inline="always")
def _place(w, s, task, may_migrate):
    """Make ``task`` ready: on its CPU, or another one with ``p_migrate``.
    Returns True when it got an idle CPU (see :func:`_start`)."""
    cpu = s.t[task, T_CPU]
    n_cpus = w.p[P_NCPU]
    if may_migrate and n_cpus > 1 and _draw(w, s, task, S_MIGRATE) < w.f[F_PMIGRATE]:
        cpu = (cpu + 1 + np.int64(_draw(w, s, task, S_WHERE) * (n_cpus - 1))) % n_cpus
        s.t[task, T_CPU] = cpu
    if s.c[cpu, C_CUR] < 0:
        _start(w, s, cpu, task)
        return True
    s.t[task, T_STATE] = READY
    if s.c[cpu, C_RQ_LEN] == 0:
        s.c[cpu, C_RQ_HEAD] = task
    else:
        s.rq[s.c[cpu, C_RQ_TAIL]] = task
    s.c[cpu, C_RQ_TAIL] = task
    s.c[cpu, C_RQ_LEN] += 1
    return False


# -- one syscall event ---------------------------------------------------------

@njit(cache=True, _nrt=False, inline="always")
def _kind_of(w, u):
    """The syscall kind of uniform ``u``: the first kind whose cumulative
    weight exceeds ``u`` (``searchsorted(side="right")``, clamped to the
    last kind). ``w.kind_guide`` maps ``u``'s 1/256 slice to the first
    candidate, so that a short scan replaces a binary search (which cost
    ~16 ns per event here)."""
    kind = w.kind_guide[np.int64(u * KIND_GUIDE)]
    last = w.p[P_NKINDS] - 1
    while kind < last and w.kind_cdf[kind] <= u:
        kind += 1
    return kind


@njit(cache=True, _nrt=False, inline="always")
def draw_event(w, ev, task):
    """Kind, payload length and user address of event ``ev`` issued by
    ``task``: a pure function of the seed (``fastring live`` checks every
    delivered record against it)."""
    seed = w.p[P_SEED]
    kind = _kind_of(w, u01(seed, S_KIND, ev, 0))
    length = np.int64(0)
    if w.kind_payload[kind] != PAYLOAD_NONE:
        x = lognormal(u01(seed, S_LEN, ev, 0), w.kind_median[kind], w.kind_sigma[kind])
        length = np.int64(min(max(x + 0.5, 1.0), float(w.p[P_CAPMAX])))
    span = max(w.ws_bytes, length)
    base = min(w.ws_base[task], w.p[P_ARENA] - span)
    return kind, length, base + np.int64(u01(seed, S_ADDR, ev, 0) * (span - length + 1))


@njit(cache=True, _nrt=False, inline="always")
def _trace_index(w, s, task):
    """Replay: the index in the ``tr_*`` arrays of the task's next syscall,
    or -1 when it has replayed all of them ``P_LOOPS`` times."""
    first = w.tr_start[task]
    n = w.tr_start[task + 1] - first
    seq = s.t[task, T_SEQ]
    if seq >= n * w.p[P_LOOPS]:
        return np.int64(-1)
    return first + seq % n


@njit(cache=True, _nrt=False, inline="always")
def _think(w, s, task, key, which):
    """Think time (ps) before the task's next syscall: drawn (exponential,
    counters ``(key, which)``), or the capture's gap when replaying."""
    if w.p[P_TRACE]:
        i = _trace_index(w, s, task)
        return w.tr_think[i] if i >= 0 else np.int64(0)
    return np.int64(exponential(u01(w.p[P_SEED], S_THINK, key, which), w.f[F_THINK]))


@njit(cache=True, _nrt=False, inline="always")
def _no_more(w, s, task):
    """Has this task issued its last event?"""
    if w.p[P_TRACE]:
        return _trace_index(w, s, task) < 0
    return s.g[G_ISSUED] >= w.p[P_EVENTS]


@njit(cache=True, _nrt=False, inline="always")
def _issue(w, s, task, t):
    """The task's think time ended: it issues the next syscall event (the
    next of its capture when replaying, else drawn)."""
    ev = s.g[G_ISSUED]
    s.g[G_ISSUED] = ev + 1
    s.t[task, T_EVENT] = ev
    s.t[task, T_PC:T_PIN + 1] = 0
    s.t[task, T_START:T_COMMIT_CPU + 1] = -1   # T_START: set when the probe runs
    if w.p[P_TRACE]:
        i = _trace_index(w, s, task)
        s.t[task, T_SEQ] += 1
        kind, length, addr = w.tr_kind[i], w.tr_len[i], w.tr_addr[i]
    else:
        kind, length, addr = draw_event(w, ev, task)
    s.t[task, T_KIND] = kind
    s.t[task, T_LEN] = length
    s.t[task, T_ADDR] = addr
    s.jumps[task, :] = 0
    s.pages[task, :] = PG_UNSEEN
    i = s.g[G_INJ]
    while i < w.inj_event.size and w.inj_event[i] < ev:
        i += 1
    if i < w.inj_event.size and w.inj_event[i] == ev:
        s.t[task, T_INJ_KIND] = w.inj_kind[i]
        s.t[task, T_INJ_DELAY] = w.inj_delay[i]
        i += 1
    s.g[G_INJ] = i


@njit(cache=True, _nrt=False, inline="always")
def _service(w, s, task, major):
    """Service time (ps) of one fault: lognormal around the configured median."""
    median = w.f[F_MAJOR] if major else w.f[F_MINOR]
    x = lognormal(_draw(w, s, task, S_FAULT_NS), median, w.f[F_SIGMA])
    return np.int64(x + 0.5)


@njit(cache=True, _nrt=False, inline="always")
def bernoulli_page(w, ev, j):
    """State of the ``j``-th page of event ``ev`` at its first touch under
    the ``bernoulli`` model: PG_MINOR, PG_MAJOR or PG_IN."""
    u = u01(w.p[P_SEED], S_PAGE, ev, j)
    if u < w.f[F_PMINOR]:
        return PG_MINOR
    if u < w.f[F_PMINOR] + w.f[F_PMAJOR]:
        return PG_MAJOR
    return PG_IN


@njit(cache=True, _nrt=False, inline="always")
def _touch(w, s, task, t, may_fault, is_copy):
    """Touch every page of the payload at time ``t``.

    Returns (minor_ps, major_ps, missing): the CPU time of minor faults
    taken, the sleep of major faults taken, and whether a page was missing
    and could not be faulted in (``may_fault`` false).

    Reclaim (``faults.reclaim_ns`` > 0), bernoulli model: a page this event
    found or faulted in is evicted again at an exponential time after that
    (``s.reclaim``); touched later, it faults again, major with
    ``p_major_given_missing``. (The residency model folds reclaim into its
    pages' eviction times, see :func:`fastring.world.prepare`.)
    """
    length = s.t[task, T_LEN]
    if length == 0:
        return np.int64(0), np.int64(0), False
    first = s.t[task, T_ADDR] // PAGE
    last = (s.t[task, T_ADDR] + length - 1) // PAGE
    ev = s.t[task, T_EVENT]
    if is_copy and s.t[task, T_INJ_KIND] != 0:
        s.pages[task, 0] = PG_INJECTED           # forced at the first copy's first page
    minor = np.int64(0)
    major = np.int64(0)
    missing = False
    residency = w.p[P_FMODEL] == 1
    reclaim = not residency and w.f[F_RECLAIM] > 0
    for j in range(last - first + 1):
        page = first + j
        state = s.pages[task, j]
        if reclaim and state == PG_IN and s.reclaim[task, j] <= t:
            # reclaimed since this event had it
            state = PG_MAJOR if _draw(w, s, task, S_PAGE) < w.f[F_PMAJ_MISSING] else PG_MINOR
            s.pages[task, j] = state
        elif state == PG_UNSEEN or (residency and state == PG_IN):
            if residency:
                if s.resident[page] > t:
                    state = PG_IN
                elif _draw(w, s, task, S_PAGE) < w.f[F_PMAJ_MISSING]:
                    state = PG_MAJOR
                else:
                    state = PG_MINOR
            else:
                state = bernoulli_page(w, ev, j)
                if reclaim and state == PG_IN:
                    s.reclaim[task, j] = t + np.int64(
                        exponential(_draw(w, s, task, S_EVICT), w.f[F_RECLAIM]))
            s.pages[task, j] = state
        if state == PG_IN:
            continue
        if not may_fault:
            missing = True
            continue
        if state == PG_INJECTED:
            d = s.t[task, T_INJ_DELAY]
            is_major = s.t[task, T_INJ_KIND] == FAULT_MAJOR
            s.t[task, T_INJ_KIND] = 0
        else:
            is_major = state == PG_MAJOR
            d = _service(w, s, task, is_major)
        if is_major:
            major += d
            s.t[task, T_FMAJOR] += 1
            s.k[K_FMAJOR] += 1
        else:
            minor += d
            s.t[task, T_FMINOR] += 1
            s.k[K_FMINOR] += 1
        s.pages[task, j] = PG_IN
        if residency:
            s.resident[page] = t + minor + major + np.int64(
                exponential(_draw(w, s, task, S_EVICT), w.f[F_RESIDENCY]))
        elif reclaim:
            s.reclaim[task, j] = t + minor + major + np.int64(
                exponential(_draw(w, s, task, S_EVICT), w.f[F_RECLAIM]))
    return minor, major, missing


@njit(cache=True, _nrt=False, inline="always")
def _mark(s, task, dest, missing):
    """``dest`` now holds zeros for a missing page (or the real bytes)."""
    if missing:
        s.t[task, T_MISS_IN] |= np.int64(1) << dest
    else:
        s.t[task, T_MISS_IN] &= ~(np.int64(1) << dest)


@njit(cache=True, _nrt=False, inline="always")
def _slot_written(s, ring, task, missing):
    """The slot's payload was just written: zeros and DATA_MISSING if
    ``missing``, else real bytes and the flag cleared (a later copy that
    succeeds replaces an earlier one that did not)."""
    b, off = s.t[task, T_RES_BUF], s.t[task, T_RES_OFF]
    if missing:
        B.write_missing(ring, b, off, s.t[task, T_LEN])
        s.t[task, T_FLAGS] |= B.F_DATA_MISSING
    elif s.t[task, T_FLAGS] & B.F_DATA_MISSING:
        B.clear_flags(ring, b, off, B.F_DATA_MISSING)
        s.t[task, T_FLAGS] &= ~B.F_DATA_MISSING


@njit(cache=True, _nrt=False, inline="always")
def _copy_user(w, s, ring, task, cpu, dest):
    """Move the payload bytes from user memory into ``dest`` (D_SLOT,
    D_SCRATCH, D_BOUNCE); zeros there when a page was missing."""
    length = s.t[task, T_LEN]
    cap = w.p[P_CAPMAX]
    missing = s.t[task, T_MISSING] != 0
    if dest == D_SLOT:
        if not missing:
            B.copy_in(ring, s.t[task, T_RES_BUF], s.t[task, T_RES_OFF], 0, w.arena, s.t[task, T_ADDR], length)
        _slot_written(s, ring, task, missing)
    else:
        buf = s.scratch if dest == D_SCRATCH else s.bounce
        at = (cpu if dest == D_SCRATCH else task) * cap
        if missing:
            buf[at:at + length] = 0
        else:
            B.memcpy(buf, at, w.arena, s.t[task, T_ADDR], length)
        _mark(s, task, dest, missing)
    s.k[K_COPIED] += length


@njit(cache=True, _nrt=False, inline="always")
def _copy_kernel(w, s, ring, task, cpu, src):
    """memcpy from the scratch or bounce buffer (``src``) into the slot."""
    length = s.t[task, T_LEN]
    b, off = s.t[task, T_RES_BUF], s.t[task, T_RES_OFF]
    missing = ((s.t[task, T_MISS_IN] >> src) & 1) != 0
    if not missing:
        buf = s.scratch if src == D_SCRATCH else s.bounce
        at = (cpu if src == D_SCRATCH else task) * w.p[P_CAPMAX]
        B.copy_in(ring, b, off, 0, buf, at, length)
    _slot_written(s, ring, task, missing)
    s.k[K_COPIED] += length


@njit(cache=True, _nrt=False, inline="always")
def _finish(w, s, task, t):
    """The probe is over: account the event, then the task thinks."""
    k = s.k
    lat = t - s.t[task, T_START]
    k[K_EVENTS] += 1
    k[K_PAYLOAD] += s.t[task, T_LEN]
    k[K_CPU_PS] += s.t[task, T_CPU_PS]
    if s.t[task, T_STATUS] != ST_RECORDED:
        k[K_LOST_EVENTS] += 1
    elif s.t[task, T_FLAGS] & B.F_DATA_MISSING:
        k[K_DATA_MISSING] += 1
    if s.t[task, T_INJ_KIND] != 0 and s.pages[task, 0] != PG_INJECTED:
        k[K_INJ_UNAPPLIED] += 1             # no copy touched a user page
    s.h[H_LAT, bin_of(lat)] += 1
    s.h[H_OFF, bin_of(s.t[task, T_OFF_SUM])] += 1
    s.h[H_SEC, bin_of(s.t[task, T_OFF_MAX])] += 1
    k[K_MAX_LAT] = max(k[K_MAX_LAT], lat)
    k[K_MAX_OFF] = max(k[K_MAX_OFF], s.t[task, T_OFF_SUM])
    k[K_MAX_SEC] = max(k[K_MAX_SEC], s.t[task, T_OFF_MAX])
    rows = s.rows
    r = s.g[G_ROWS]
    if r < rows.shape[0]:
        for i in range(N_E):
            f = EVENT_FIELDS[i]
            rows[r, i] = s.t[task, f] if f >= 0 else 0
        rows[r, 1] = task
        rows[r, 5] = t
        if s.t[task, T_COMMIT_CPU] < 0:
            rows[r, 16] = -1                  # never committed: no pin time
        s.g[G_ROWS] = r + 1
    s.g[G_COMPLETED] += 1
    s.t[task, T_STATE] = THINK
    heap_push(s, t + _think(w, s, task, s.t[task, T_EVENT], 1), task)
    _release(w, s, s.t[task, T_CPU], t)


@njit(cache=True, _nrt=False, inline="always")
def _step(w, s, ring, prog, task, t):
    """Execute the task's next probe step at ``t``.

    Returns its duration (>= 0) when the task goes on running, -1 when it
    left the CPU (preempted, asleep, or finished).
    """
    cpu = s.t[task, T_CPU]
    costs = w.costs
    # preemption at the end of the previous (preemptible) step
    if s.t[task, T_LAST_P] and s.c[cpu, C_RQ_LEN] > 0:
        if _preempted(_draw(w, s, task, S_PREEMPT), s.t[task, T_LAST_DUR],
                      w.p[P_TIMESLICE]):
            s.k[K_PREEMPTIONS] += 1
            _release(w, s, cpu, t)
            if _place(w, s, task, s.t[task, T_MOFF] == 0):
                heap_push(s, t + costs[C_SWITCH], task)
            return np.int64(-1)
    if s.t[task, T_START] < 0:
        s.t[task, T_START] = t             # latency counts from the probe's start
    pc = s.t[task, T_PC]
    op = prog[pc, S.OP]
    arg = prog[pc, S.ARG]
    dur = np.int64(0)
    nxt = pc + 1
    length = s.t[task, T_LEN]
    dropped = s.t[task, T_STATUS] != ST_RECORDED
    if op == S.END:
        _finish(w, s, task, t)
        return np.int64(-1)
    elif op == S.PREEMPT_OFF:
        dur = costs[C_POFF]
        s.t[task, T_POFF] = 1
        s.t[task, T_N_START] = t
    elif op == S.PREEMPT_ON:
        dur = costs[C_PON]
        sec = t + dur - s.t[task, T_N_START]
        s.t[task, T_OFF_SUM] += sec
        s.t[task, T_OFF_MAX] = max(s.t[task, T_OFF_MAX], sec)
        s.t[task, T_POFF] = 0
    elif op == S.MIGRATE_OFF:
        dur = costs[C_MOFF]
        s.t[task, T_MOFF] = 1
    elif op == S.MIGRATE_ON:
        dur = costs[C_MON]
        s.t[task, T_MOFF] = 0
    elif op == S.KMALLOC:
        if length > 0:                        # nothing to hold: no allocation
            dur = costs[C_KMALLOC]
            s.k[K_KMALLOC] += 1
    elif op == S.KFREE:
        dur = 0
    elif (op == S.STRNLEN or op == S.FAULT_IN or op == S.COPY_TO_SLOT
          or op == S.COPY_TO_SCRATCH or op == S.COPY_TO_BOUNCE):
        is_copy = op != S.STRNLEN and op != S.FAULT_IN
        if op == S.STRNLEN and w.kind_payload[s.t[task, T_KIND]] != PAYLOAD_STRING:
            pass                              # a buffer's length is known
        elif op == S.COPY_TO_SLOT and dropped:
            pass                              # no slot: the copy is skipped
        elif is_copy and length == 0:
            pass                              # no payload: no copy_from_user
        else:
            if s.t[task, T_PHASE] == 0:
                minor, major, missing = _touch(w, s, task, t, arg == 0, is_copy)
                if is_copy:
                    s.t[task, T_MISSING] = 1 if missing else 0
                if major > 0:
                    s.t[task, T_PHASE] = 1
                    s.t[task, T_STEP_MINOR] = minor
                    s.t[task, T_STATE] = SLEEP
                    s.k[K_SLEEPS] += 1
                    heap_push(s, t + major, task)
                    _release(w, s, cpu, t)
                    return np.int64(-1)
            else:
                minor = s.t[task, T_STEP_MINOR]
                s.t[task, T_PHASE] = 0
            dur = minor
            if op == S.STRNLEN:
                dur += costs[C_STRNLEN] * length
            elif op == S.FAULT_IN:
                if length > 0:                # one touch per page
                    dur += costs[C_MCALL] * ((s.t[task, T_ADDR] + length - 1) // PAGE
                                             - s.t[task, T_ADDR] // PAGE + 1)
            else:
                dur += costs[C_UCALL] + costs[C_UBYTE] * length + costs[C_CFU]
                _copy_user(w, s, ring, task, cpu,
                           D_SLOT if op == S.COPY_TO_SLOT else (
                               D_SCRATCH if op == S.COPY_TO_SCRATCH else D_BOUNCE))
    elif op == S.MEMCPY_SCRATCH or op == S.MEMCPY_BOUNCE:
        if not dropped and length > 0:       # no payload: no memcpy
            dur = costs[C_MCALL] + costs[C_MBYTE] * length
            _copy_kernel(w, s, ring, task, cpu, D_SCRATCH if op == S.MEMCPY_SCRATCH else D_BOUNCE)
    elif op == S.RESERVE:
        header = ring.geo[B.G_HEADER]
        size = B.record_size(header, length)
        dur = costs[C_CLOCK] + costs[C_MBYTE] * header
        if arg:
            dur += costs[C_ACMPXCHG]
            s.k[K_ATOMIC] += 1
        else:
            dur += costs[C_LCMPXCHG]
        off = B.reserve(ring, cpu, size)
        if off < 0:
            s.t[task, T_STATUS] = -off               # R_LOST_* -> ST_LOST_*
        else:
            s.t[task, T_STATUS] = ST_RECORDED
            s.t[task, T_RES_BUF] = cpu
            s.t[task, T_RES_CPU] = cpu
            s.t[task, T_RES_OFF] = off
            s.t[task, T_RES_SIZE] = size
            s.t[task, T_RES_TIME] = t
            B.write_header(ring, cpu, off, length, s.t[task, T_KIND],
                           0, t, s.t[task, T_EVENT], s.t[task, T_ADDR])
    elif op == S.ROLLBACK:
        if not dropped:
            dur = costs[C_LCMPXCHG]
            B.rollback_or_pad(ring, s.t[task, T_RES_BUF], s.t[task, T_RES_OFF], s.t[task, T_RES_SIZE],
                              B.C_LOCAL if cpu == s.t[task, T_RES_BUF] else B.C_REMOTE, t)
            s.t[task, T_RES_SIZE] = -1
            s.t[task, T_RES_CPU] = -1
            s.t[task, T_FLAGS] &= ~B.F_DATA_MISSING   # no slot any more
    elif (op == S.COMMIT_LOCAL or op == S.COMMIT_SPLIT or op == S.COMMIT_ATOMIC
          or op == S.COMMIT_UNSAFE):      # unsafe: as split here (sequential)
        if not dropped:
            b = s.t[task, T_RES_BUF]
            if op == S.COMMIT_ATOMIC:
                how = B.C_ATOMIC
                dur = costs[C_AADD]
            elif (op == S.COMMIT_SPLIT or op == S.COMMIT_UNSAFE) and cpu != b:
                how = B.C_REMOTE
                dur = costs[C_AADD_CONT]
            else:
                how = B.C_LOCAL
                dur = costs[C_LADD]
            if how != B.C_LOCAL:
                s.k[K_ATOMIC] += 1
            if cpu != b:
                s.k[K_MIGRATIONS] += 1
            B.commit(ring, b, s.t[task, T_RES_OFF], s.t[task, T_RES_SIZE], how, t)
            pin = t - s.t[task, T_RES_TIME]
            s.t[task, T_PIN] = pin
            s.h[H_PIN, bin_of(pin)] += 1
            s.k[K_MAX_PIN] = max(s.k[K_MAX_PIN], pin)
            s.t[task, T_COMMIT_CPU] = cpu
            s.t[task, T_RES_SIZE] = -1
    elif op == S.READ_CS:
        dur = costs[C_CSREAD]
        s.t[task, T_CS_SNAP] = s.c[cpu, C_NSW]
    elif op == S.RETRY_IF_CS:
        dur = costs[C_CSREAD]
        if s.c[cpu, C_NSW] != s.t[task, T_CS_SNAP]:
            slot = prog[pc, S.SLOT]
            if s.jumps[task, slot] < prog[pc, S.BOUND]:
                s.jumps[task, slot] += 1
                s.t[task, T_RETRIES] += 1
                s.k[K_RETRIES] += 1
                nxt = prog[pc, S.TARGET]
            else:
                _mark(s, task, D_SCRATCH, True)   # the scratch copy may be torn
    elif op == S.IF_MISSING:
        if s.t[task, T_MISSING]:
            slot = prog[pc, S.SLOT]
            if s.jumps[task, slot] < prog[pc, S.BOUND]:
                s.jumps[task, slot] += 1
                s.t[task, T_RESTARTS] += 1
                s.k[K_RESTARTS] += 1
                s.t[task, T_MISSING] = 0
                nxt = prog[pc, S.TARGET]
    elif op == S.GOTO:
        nxt = prog[pc, S.TARGET]
    s.t[task, T_PC] = nxt
    s.t[task, T_CPU_PS] += dur
    s.t[task, T_LAST_DUR] = dur
    s.t[task, T_LAST_P] = 1 - s.t[task, T_POFF]
    return dur


@njit(cache=True, _nrt=False, inline="always")
def _reader(w, s, ring, b, t):
    """The consumer of buffer ``b`` at ``t``: finish the sub-buffer it was
    reading (its records are delivered, and its space freed, only now), then
    start reading the next one if it is complete, else sleep a period."""
    if ring.st[b, B.READING] >= 0:
        B.end_read(ring, b, t, w.p[P_VERIFY] != 0, w.arena, w.p[P_CAPMAX],
                   w.p[P_NKINDS], s.delivery)
    if B.begin_read(ring, b):
        read_ps = ring.geo[B.G_SUBBUF] * w.p[P_READ_PSB] // 1000
        heap_push(s, t + read_ps, w.p[P_NTASK] + b)
        return
    if s.g[G_TASKS_DONE] == w.p[P_NTASK] and ring.st[b, B.RD] == ring.st[b, B.WR]:
        return                                # drained after the last event
    heap_push(s, t + w.p[P_PERIOD], w.p[P_NTASK] + b)


@njit(cache=True, _nrt=False)
def init(w, s, ring):
    """Tasks start thinking on their home CPUs; readers at their period."""
    n_tasks = w.p[P_NTASK]
    n_cpus = w.p[P_NCPU]
    for c in range(n_cpus):
        s.c[c, C_CUR] = -1
    for task in range(n_tasks):
        s.t[task, T_STATE] = THINK
        s.t[task, T_CPU] = task % n_cpus
        s.t[task, T_EVENT] = -1
        heap_push(s, _think(w, s, task, task, 0), task)
    for b in range(n_cpus):
        heap_push(s, w.p[P_PERIOD], n_tasks + b)
    if w.p[P_FMODEL] == 1:
        for page in range(s.resident.size):
            s.resident[page] = np.int64(exponential(
                u01(w.p[P_SEED], S_EVICT, page, np.int64(1) << 40), w.f[F_RESIDENCY]))


@njit(cache=True, _nrt=False)
def run_chunk(w, s, ring, prog, target):
    """Advance the simulation until ``target`` events have completed (in
    total) or nothing is left to happen. Returns True when the run is over."""
    n_tasks = w.p[P_NTASK]
    g = s.g
    while g[G_HEAP] > 0 and g[G_COMPLETED] < target:
        t, code = heap_pop(s)
        g[G_NOW] = t
        if code >= n_tasks:
            _reader(w, s, ring, code - n_tasks, t)
            continue
        task = code
        state = s.t[task, T_STATE]
        if state != RUN:
            if state == THINK:
                if _no_more(w, s, task):
                    s.t[task, T_STATE] = DONE
                    g[G_TASKS_DONE] += 1
                    if g[G_TASKS_DONE] == n_tasks:
                        for b in range(w.p[P_NCPU]):
                            B.flush(ring, b)
                    continue
                _issue(w, s, task, t)
                may_migrate = True
            else:                                  # SLEEP: the page is in
                may_migrate = s.t[task, T_MOFF] == 0
            if not _place(w, s, task, may_migrate):
                continue                           # queued behind another task
            t += w.costs[C_SWITCH]
            if _pending_before(s, t, task):
                heap_push(s, t, task)
                continue
        while True:
            g[G_STEPS] += 1
            dur = _step(w, s, ring, prog, task, t)
            if dur < 0:
                break
            t += dur
            if _pending_before(s, t, task):
                heap_push(s, t, task)
                break
    return g[G_HEAP] == 0
