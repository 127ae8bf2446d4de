"""Probe steps: the strategy program's opcodes interpreted one step at a time."""
from __future__ import annotations

import numpy as np

from numba import njit

from ..model import buffer as B
from ..model import strategies as S
from ..model.histogram import bin_of
from ..model.rng import S_PREEMPT
from ..world.prepare import P_CAPMAX, P_TIMESLICE, PAGE, PAYLOAD_STRING
from .layout import (C_CLOCK, C_LADD, C_AADD, C_AADD_CONT, C_LCMPXCHG, C_ACMPXCHG,
                     C_POFF, C_PON, C_MOFF, C_MON, C_MCALL, C_MBYTE, C_CFU, C_STRNLEN,
                     C_KMALLOC, C_CSREAD, C_SWITCH, C_UCALL, C_UBYTE, THINK, SLEEP,
                     T_STATE, T_CPU, T_EVENT, T_KIND, T_LEN, T_ADDR, T_RES_OFF,
                     T_RES_TIME, T_CS_SNAP, T_N_START, T_LAST_DUR, T_LAST_P, T_PC,
                     T_PHASE, T_FLAGS, T_MISSING, T_MISS_IN, T_STATUS, T_POFF, T_MOFF,
                     T_OFF_SUM, T_OFF_MAX, T_CPU_PS, T_RESTARTS, T_RETRIES, T_INJ_KIND,
                     T_STEP_MINOR, T_PIN, T_START, T_RES_SIZE, T_RES_BUF, T_RES_CPU,
                     T_COMMIT_CPU, D_SLOT, D_SCRATCH, D_BOUNCE, ST_RECORDED, C_NSW,
                     C_RQ_LEN, G_COMPLETED, G_ROWS, K_EVENTS, K_RESTARTS, K_RETRIES,
                     K_MIGRATIONS, K_ATOMIC, K_KMALLOC, K_PAYLOAD, K_COPIED,
                     K_DATA_MISSING, K_CPU_PS, K_MAX_LAT, K_MAX_OFF, K_MAX_SEC,
                     K_MAX_PIN, K_PREEMPTIONS, K_SLEEPS, K_LOST_EVENTS, K_INJ_UNAPPLIED,
                     H_LAT, H_OFF, H_SEC, H_PIN, N_E, EVENT_FIELDS, PG_INJECTED)
from .queue import heap_push
from .scheduler import _draw, _preempted, _release, _place
from .event import _think
from .faults import _touch


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
        B.stage(ring, buf, at, w.arena, s.t[task, T_ADDR], length, missing)
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
