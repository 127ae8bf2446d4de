"""Page faults of a payload's pages: bernoulli or residency model."""
from __future__ import annotations

import numpy as np

from numba import njit

from ..model.rng import S_EVICT, S_FAULT_NS, S_PAGE, exponential, fault_service_ps, u01
from ..world.prepare import (F_MAJOR, F_MINOR, F_PMAJ_MISSING, F_PMAJOR, F_PMINOR, F_RECLAIM,
                             F_RESIDENCY, F_SIGMA, FAULT_MAJOR, P_SEED, P_FMODEL, PAGE)
from .layout import (COUNT_FAULTS_MINOR, COUNT_FAULTS_MAJOR, PG_UNSEEN, PG_IN, PG_MINOR,
                     PG_MAJOR, PG_INJECTED)
from .scheduler import _draw


@njit(cache=True, _nrt=False, inline="always")
def _service(w, tk, major):
    """Service time (ps) of one fault: lognormal around the configured median."""
    median = w.f[F_MAJOR] if major else w.f[F_MINOR]
    return fault_service_ps(_draw(w, tk, S_FAULT_NS), median, w.f[F_SIGMA])


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
    tk = s.task[task]
    length = np.int64(tk.payload_len)
    if length == 0:
        return np.int64(0), np.int64(0), False
    first = tk.user_addr // PAGE
    last = (tk.user_addr + length - 1) // PAGE
    ev = tk.event
    if is_copy and tk.injected_kind != 0:
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
            state = PG_MAJOR if _draw(w, tk, S_PAGE) < w.f[F_PMAJ_MISSING] else PG_MINOR
            s.pages[task, j] = state
        elif state == PG_UNSEEN or (residency and state == PG_IN):
            if residency:
                if s.resident[page] > t:
                    state = PG_IN
                elif _draw(w, tk, S_PAGE) < w.f[F_PMAJ_MISSING]:
                    state = PG_MAJOR
                else:
                    state = PG_MINOR
            else:
                state = bernoulli_page(w, ev, j)
                if reclaim and state == PG_IN:
                    s.reclaim[task, j] = t + np.int64(
                        exponential(_draw(w, tk, S_EVICT), w.f[F_RECLAIM]))
            s.pages[task, j] = state
        if state == PG_IN:
            continue
        if not may_fault:
            missing = True
            continue
        if state == PG_INJECTED:
            d = tk.injected_delay
            is_major = tk.injected_kind == FAULT_MAJOR
            tk.injected_kind = 0
        else:
            is_major = state == PG_MAJOR
            d = _service(w, tk, is_major)
        if is_major:
            major += d
            tk.faults_major += 1
            s.k[COUNT_FAULTS_MAJOR] += 1
        else:
            minor += d
            tk.faults_minor += 1
            s.k[COUNT_FAULTS_MINOR] += 1
        s.pages[task, j] = PG_IN
        if residency:
            s.resident[page] = t + minor + major + np.int64(
                exponential(_draw(w, tk, S_EVICT), w.f[F_RESIDENCY]))
        elif reclaim:
            s.reclaim[task, j] = t + minor + major + np.int64(
                exponential(_draw(w, tk, S_EVICT), w.f[F_RECLAIM]))
    return minor, major, missing
