"""The main loop: readers, initial happenings, and :func:`run_chunk`."""
from __future__ import annotations

import numpy as np

from numba import njit

from ..model import buffer as B
from ..model.rng import S_EVICT, exponential, u01
from ..world.prepare import (F_RESIDENCY, P_CAPMAX, P_NCPU, P_NKINDS, P_NTASK, P_PERIOD,
                             P_READ_PSB, P_SEED, P_VERIFY, P_FMODEL)
from .layout import (COST_CONTEXT_SWITCH, THINK, RUN, DONE, GLOBAL_COMPLETED,
                     GLOBAL_HEAP_LEN, GLOBAL_TASKS_DONE, GLOBAL_NOW, GLOBAL_STEPS)
from .queue import heap_push, heap_pop, heap_replace, _pending_before
from .scheduler import _place
from .event import _think, _no_more, _issue
from .steps import _step


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
    if s.g[GLOBAL_TASKS_DONE] == w.p[P_NTASK] and ring.st[b, B.RD] == ring.st[b, B.WR]:
        return                                # drained after the last event
    heap_push(s, t + w.p[P_PERIOD], w.p[P_NTASK] + b)


@njit(cache=True, _nrt=False)
def init(w, s, ring):
    """Tasks start thinking on their home CPUs; readers at their period."""
    n_tasks = w.p[P_NTASK]
    n_cpus = w.p[P_NCPU]
    for c in range(n_cpus):
        s.cpu[c].curr = -1
    for task in range(n_tasks):
        tk = s.task[task]
        tk.state = THINK
        tk.cpu = task % n_cpus
        tk.event = -1
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
    t, code = np.int64(0), np.int64(0)
    taken = False                         # (t, code) already taken from the queue
    while (taken or g[GLOBAL_HEAP_LEN] > 0) and g[GLOBAL_COMPLETED] < target:
        if not taken:
            t, code = heap_pop(s)
        taken = False
        g[GLOBAL_NOW] = t
        if code >= n_tasks:
            _reader(w, s, ring, code - n_tasks, t)
            continue
        task = code
        tk = s.task[task]
        state = tk.state
        if state != RUN:
            if state == THINK:
                if _no_more(w, s, task):
                    tk.state = DONE
                    g[GLOBAL_TASKS_DONE] += 1
                    if g[GLOBAL_TASKS_DONE] == n_tasks:
                        for b in range(w.p[P_NCPU]):
                            B.flush(ring, b)
                    continue
                _issue(w, s, task, t)
                may_migrate = True
            else:                                  # SLEEP: the page is in
                may_migrate = tk.migrate_off == 0
            if not _place(w, s, task, may_migrate):
                continue                           # queued behind another task
            t += w.costs[COST_CONTEXT_SWITCH]
            if _pending_before(s, t, task):   # it waits: push it, pop the next
                t, code = heap_replace(s, t, task)
                taken = True
                continue
        while True:
            g[GLOBAL_STEPS] += 1
            dur = _step(w, s, ring, prog, task, t)
            if dur < 0:
                break
            t += dur
            if _pending_before(s, t, task):
                t, code = heap_replace(s, t, task)
                taken = True
                break
    if taken:
        heap_push(s, t, code)             # the chunk ends first: back in the queue
    return g[GLOBAL_HEAP_LEN] == 0
