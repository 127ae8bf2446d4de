"""One syscall event: its kind, length, address, think time and injections."""
from __future__ import annotations

import numpy as np

from numba import njit

from ..model.rng import S_ADDR, S_KIND, S_LEN, S_THINK, exponential, lognormal, u01
from ..world.prepare import (KIND_GUIDE,
    F_THINK,
    P_ARENA,
    P_CAPMAX,
    P_EVENTS,
    P_NKINDS,
    P_SEED,
    P_LOOPS,
    P_TRACE,
    PAYLOAD_NONE)
from .layout import (T_EVENT, T_KIND, T_LEN, T_ADDR, T_PC, T_INJ_KIND, T_INJ_DELAY,
                     T_PIN, T_START, T_COMMIT_CPU, T_SEQ, G_ISSUED, G_INJ, PG_UNSEEN)


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
