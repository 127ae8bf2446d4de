"""One syscall event: its kind, length, address, think time and injections."""
from __future__ import annotations

import numpy as np

from numba import njit

from ..model.rng import S_ADDR, S_KIND, S_LEN, S_THINK, exponential, lognormal, u01
from ..world.prepare import (KIND_GUIDE, F_THINK, P_ARENA, P_CAPMAX, P_EVENTS, P_NKINDS, P_SEED,
                             P_LOOPS, P_TRACE, PAYLOAD_NONE)
from .layout import GLOBAL_ISSUED, GLOBAL_NEXT_INJECTION, PG_UNSEEN, ST_RECORDED


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
    seq = s.task[task].seq
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
    return s.g[GLOBAL_ISSUED] >= w.p[P_EVENTS]


@njit(cache=True, _nrt=False, inline="always")
def _begin_event(tk):
    """Everything per event starts afresh (as the reference's
    ``Task.begin_event``; kept across events: state, cpu, buf_offset, tsc,
    cs_snapshot, section_start, last_dur, last_preemptible, seq: a valid
    program sets each before it reads it)."""
    tk.start = -1                          # set by the probe's first step
    tk.draws = 0
    tk.pc = 0
    tk.resuming = 0
    tk.step_minor = 0
    tk.injected_kind = 0
    tk.injected_delay = 0
    tk.record_flags = 0
    tk.missing = 0
    tk.zeroed = 0
    tk.status = ST_RECORDED
    tk.reserve_buf = -1
    tk.reserve_cpu = -1
    tk.commit_cpu = -1
    tk.slot_size = -1
    tk.pin = 0
    tk.preempt_off = 0
    tk.migrate_off = 0
    tk.off_sum = 0
    tk.off_max = 0
    tk.cpu_ps = 0
    tk.faults_minor = 0
    tk.faults_major = 0
    tk.restarts = 0
    tk.retries = 0


@njit(cache=True, _nrt=False, inline="always")
def _issue(w, s, task, t):
    """The task's think time ended: it issues the next syscall event (the
    next of its capture when replaying, else drawn)."""
    tk = s.task[task]
    ev = s.g[GLOBAL_ISSUED]
    s.g[GLOBAL_ISSUED] = ev + 1
    tk.event = ev
    _begin_event(tk)
    if w.p[P_TRACE]:
        i = _trace_index(w, s, task)
        tk.seq += 1
        kind, length, addr = w.tr_kind[i], w.tr_len[i], w.tr_addr[i]
    else:
        kind, length, addr = draw_event(w, ev, task)
    tk.kind = kind
    tk.payload_len = length
    tk.user_addr = addr
    s.jumps[task, :] = 0
    s.pages[task, :] = PG_UNSEEN
    i = s.g[GLOBAL_NEXT_INJECTION]
    while i < w.inj_event.size and w.inj_event[i] < ev:
        i += 1
    if i < w.inj_event.size and w.inj_event[i] == ev:
        tk.injected_kind = w.inj_kind[i]
        tk.injected_delay = w.inj_delay[i]
        i += 1
    s.g[GLOBAL_NEXT_INJECTION] = i
