"""The scheduler: tasks on CPUs, run queues, preemption and migration."""
from __future__ import annotations

import math
import numpy as np

from numba import njit

from ..model.rng import S_MIGRATE, S_WHERE, u01
from ..world.prepare import F_PMIGRATE, P_NCPU, P_SEED
from .layout import COST_CONTEXT_SWITCH, READY, RUN
from .queue import heap_push


# -- the scheduler ------------------------------------------------------------

@njit(cache=True, _nrt=False, inline="always")
def _draw(w, tk, stream):
    """Next uniform of task ``tk``'s current event (counter per event)."""
    k = tk.draws
    tk.draws = k + 1
    return u01(w.p[P_SEED], stream, tk.event, k)


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
    c = s.cpu[cpu]
    c.curr = task
    c.nr_switches += 1
    tk = s.task[task]
    tk.state = RUN
    tk.cpu = cpu
    tk.last_preemptible = 0


@njit(cache=True, _nrt=False, inline="always")
def _release(w, s, cpu, t):
    """The running task leaves ``cpu``; the next ready one (FIFO) gets it."""
    c = s.cpu[cpu]
    c.curr = -1
    if c.nr_running > 0:
        task = np.int64(c.rq_head)
        c.rq_head = s.rq[task]
        c.nr_running -= 1
        _start(w, s, cpu, task)
        heap_push(s, t + w.costs[COST_CONTEXT_SWITCH], task)


@njit(cache=True, _nrt=False, inline="always")
def _place(w, s, task, may_migrate):
    """Make ``task`` ready: on its CPU, or another one with ``p_migrate``.
    Returns True when it got an idle CPU (see :func:`_start`)."""
    tk = s.task[task]
    cpu = np.int64(tk.cpu)
    n_cpus = w.p[P_NCPU]
    if may_migrate and n_cpus > 1 and _draw(w, tk, S_MIGRATE) < w.f[F_PMIGRATE]:
        cpu = (cpu + 1 + np.int64(_draw(w, tk, S_WHERE) * (n_cpus - 1))) % n_cpus
        tk.cpu = cpu
    c = s.cpu[cpu]
    if c.curr < 0:
        _start(w, s, cpu, task)
        return True
    tk.state = READY
    if c.nr_running == 0:
        c.rq_head = task
    else:
        s.rq[c.rq_tail] = task
    c.rq_tail = task
    c.nr_running += 1
    return False
