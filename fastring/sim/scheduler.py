"""The scheduler: tasks on CPUs, run queues, preemption and migration."""
from __future__ import annotations

import math
import numpy as np

from numba import njit

from ..model.rng import S_MIGRATE, S_WHERE, u01
from ..world.prepare import F_PMIGRATE, P_NCPU, P_SEED
from .layout import (C_SWITCH, READY, RUN, T_STATE, T_CPU, T_EVENT, T_LAST_P, T_DRAW,
                     C_CUR, C_NSW, C_RQ_HEAD, C_RQ_LEN, C_RQ_TAIL)
from .queue import heap_push


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
