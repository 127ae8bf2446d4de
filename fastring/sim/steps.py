"""Probe steps: the strategy program's opcodes interpreted one step at a time."""
from __future__ import annotations

import numpy as np

from numba import njit

from ..model import buffer as B
from ..model import strategies as S
from ..model.histogram import bin_of
from ..model.rng import S_PREEMPT
from ..world.prepare import P_CAPMAX, P_TIMESLICE, PAGE, PAYLOAD_STRING
from .layout import (
    COST_CLOCK_READ, COST_LOCAL_ADD, COST_ATOMIC_ADD, COST_ATOMIC_ADD_CONTENDED,
    COST_LOCAL_CMPXCHG, COST_ATOMIC_CMPXCHG, COST_PREEMPT_OFF, COST_PREEMPT_ON,
    COST_MIGRATE_OFF, COST_MIGRATE_ON, COST_MEMCPY_CALL, COST_MEMCPY_BYTE,
    COST_COPY_FROM_USER_EXTRA, COST_STRNLEN_BYTE, COST_KMALLOC_KFREE,
    COST_CS_COUNT_READ, COST_CONTEXT_SWITCH, COST_COPY_USER_CALL,
    COST_COPY_USER_BYTE, THINK, SLEEP, D_SLOT, D_SCRATCH, D_BOUNCE, ST_RECORDED,
    GLOBAL_COMPLETED, GLOBAL_ROWS, COUNT_EVENTS, COUNT_RESTARTS, COUNT_RETRIES,
    COUNT_MIGRATIONS, COUNT_ATOMIC_OPS, COUNT_KMALLOCS, COUNT_PAYLOAD_BYTES,
    COUNT_COPIED_BYTES, COUNT_DATA_MISSING, COUNT_CPU_PS, COUNT_MAX_LATENCY,
    COUNT_MAX_PREEMPT_OFF, COUNT_MAX_PREEMPT_SECTION, COUNT_MAX_PIN,
    COUNT_PREEMPTIONS, COUNT_SLEEPS, COUNT_LOST_EVENTS, COUNT_INJECT_UNAPPLIED,
    HIST_LATENCY, HIST_PREEMPT_OFF, HIST_PREEMPT_SECTION, HIST_PIN, PG_INJECTED,
    EV_EVENT, EV_TASK, EV_KIND, EV_PAYLOAD_LEN, EV_START, EV_END, EV_RESERVE_CPU,
    EV_COMMIT_CPU, EV_STATUS, EV_FLAGS, EV_FAULTS_MINOR, EV_FAULTS_MAJOR,
    EV_RESTARTS, EV_RETRIES, EV_PREEMPT_OFF, EV_PREEMPT_SECTION, EV_PIN, EV_CPU,
    EV_USER_ADDR)
from .queue import heap_push
from .scheduler import _draw, _preempted, _release, _place
from .event import _think
from .faults import _touch


@njit(cache=True, _nrt=False, inline="always")
def _mark(tk, dest, missing):
    """``dest`` now holds zeros for a missing page (or the real bytes)."""
    if missing:
        tk.zeroed |= np.int64(1) << dest
    else:
        tk.zeroed &= ~(np.int64(1) << dest)


@njit(cache=True, _nrt=False, inline="always")
def _slot_written(ring, tk, missing):
    """The slot's payload was just written: zeros and DATA_MISSING if
    ``missing``, else real bytes and the flag cleared (a later copy that
    succeeds replaces an earlier one that did not)."""
    b, off = np.int64(tk.reserve_buf), tk.buf_offset
    if missing:
        B.write_missing(ring, b, off, np.int64(tk.payload_len))
        tk.record_flags |= B.F_DATA_MISSING
    elif tk.record_flags & B.F_DATA_MISSING:
        B.clear_flags(ring, b, off, B.F_DATA_MISSING)
        tk.record_flags &= ~B.F_DATA_MISSING


@njit(cache=True, _nrt=False, inline="always")
def _copy_user(w, s, ring, task, cpu, dest):
    """Move the payload bytes from user memory into ``dest`` (D_SLOT,
    D_SCRATCH, D_BOUNCE); zeros there when a page was missing."""
    tk = s.task[task]
    length = np.int64(tk.payload_len)
    cap = w.p[P_CAPMAX]
    missing = tk.missing != 0
    if dest == D_SLOT:
        if not missing:
            B.copy_in(ring, np.int64(tk.reserve_buf), tk.buf_offset, 0, w.arena,
                      tk.user_addr, length)
        _slot_written(ring, tk, missing)
    else:
        buf = s.scratch if dest == D_SCRATCH else s.bounce
        at = (cpu if dest == D_SCRATCH else task) * cap
        B.stage(ring, buf, at, w.arena, tk.user_addr, length, missing)
        _mark(tk, dest, missing)
    s.k[COUNT_COPIED_BYTES] += length


@njit(cache=True, _nrt=False, inline="always")
def _copy_kernel(w, s, ring, task, cpu, src):
    """memcpy from the scratch or bounce buffer (``src``) into the slot."""
    tk = s.task[task]
    length = np.int64(tk.payload_len)
    b, off = np.int64(tk.reserve_buf), tk.buf_offset
    missing = ((tk.zeroed >> src) & 1) != 0
    if not missing:
        buf = s.scratch if src == D_SCRATCH else s.bounce
        at = (cpu if src == D_SCRATCH else task) * w.p[P_CAPMAX]
        B.copy_in(ring, b, off, 0, buf, at, length)
    _slot_written(ring, tk, missing)
    s.k[COUNT_COPIED_BYTES] += length


@njit(cache=True, _nrt=False, inline="always")
def _finish(w, s, task, t):
    """The probe is over: account the event, then the task thinks."""
    tk = s.task[task]
    k = s.k
    lat = t - tk.start
    k[COUNT_EVENTS] += 1
    k[COUNT_PAYLOAD_BYTES] += tk.payload_len
    k[COUNT_CPU_PS] += tk.cpu_ps
    if tk.status != ST_RECORDED:
        k[COUNT_LOST_EVENTS] += 1
    elif tk.record_flags & B.F_DATA_MISSING:
        k[COUNT_DATA_MISSING] += 1
    if tk.injected_kind != 0 and s.pages[task, 0] != PG_INJECTED:
        k[COUNT_INJECT_UNAPPLIED] += 1             # no copy touched a user page
    s.h[HIST_LATENCY, bin_of(lat)] += 1
    s.h[HIST_PREEMPT_OFF, bin_of(tk.off_sum)] += 1
    s.h[HIST_PREEMPT_SECTION, bin_of(tk.off_max)] += 1
    k[COUNT_MAX_LATENCY] = max(k[COUNT_MAX_LATENCY], lat)
    k[COUNT_MAX_PREEMPT_OFF] = max(k[COUNT_MAX_PREEMPT_OFF], tk.off_sum)
    k[COUNT_MAX_PREEMPT_SECTION] = max(k[COUNT_MAX_PREEMPT_SECTION], tk.off_max)
    rows = s.rows
    r = s.g[GLOBAL_ROWS]
    if r < rows.shape[0]:
        row = rows[r]
        row[EV_EVENT] = tk.event
        row[EV_TASK] = task
        row[EV_KIND] = tk.kind
        row[EV_PAYLOAD_LEN] = tk.payload_len
        row[EV_START] = tk.start
        row[EV_END] = t
        row[EV_RESERVE_CPU] = tk.reserve_cpu
        row[EV_COMMIT_CPU] = tk.commit_cpu
        row[EV_STATUS] = tk.status
        row[EV_FLAGS] = tk.record_flags
        row[EV_FAULTS_MINOR] = tk.faults_minor
        row[EV_FAULTS_MAJOR] = tk.faults_major
        row[EV_RESTARTS] = tk.restarts
        row[EV_RETRIES] = tk.retries
        row[EV_PREEMPT_OFF] = tk.off_sum
        row[EV_PREEMPT_SECTION] = tk.off_max
        row[EV_PIN] = tk.pin if tk.commit_cpu >= 0 else -1   # -1: never committed
        row[EV_CPU] = tk.cpu_ps
        row[EV_USER_ADDR] = tk.user_addr
        s.g[GLOBAL_ROWS] = r + 1
    s.g[GLOBAL_COMPLETED] += 1
    tk.state = THINK
    heap_push(s, t + _think(w, s, task, tk.event, 1), task)
    _release(w, s, np.int64(tk.cpu), t)


@njit(cache=True, _nrt=False, inline="always")
def _step(w, s, ring, prog, task, t):
    """Execute the task's next probe step at ``t``.

    Returns its duration (>= 0) when the task goes on running, -1 when it
    left the CPU (preempted, asleep, or finished).
    """
    tk = s.task[task]
    cpu = np.int64(tk.cpu)
    costs = w.costs
    # preemption at the end of the previous (preemptible) step
    if tk.last_preemptible and s.cpu[cpu].nr_running > 0:
        if _preempted(_draw(w, tk, S_PREEMPT), tk.last_dur,
                      w.p[P_TIMESLICE]):
            s.k[COUNT_PREEMPTIONS] += 1
            _release(w, s, cpu, t)
            if _place(w, s, task, tk.migrate_off == 0):
                heap_push(s, t + costs[COST_CONTEXT_SWITCH], task)
            return np.int64(-1)
    if tk.start < 0:
        tk.start = t             # latency counts from the probe's start
    pc = tk.pc
    op = prog[pc, S.OP]
    arg = prog[pc, S.ARG]
    dur = np.int64(0)
    nxt = pc + 1
    length = np.int64(tk.payload_len)
    dropped = tk.status != ST_RECORDED
    if op == S.END:
        _finish(w, s, task, t)
        return np.int64(-1)
    elif op == S.PREEMPT_OFF:
        dur = costs[COST_PREEMPT_OFF]
        tk.preempt_off = 1
        tk.section_start = t
    elif op == S.PREEMPT_ON:
        dur = costs[COST_PREEMPT_ON]
        sec = t + dur - tk.section_start
        tk.off_sum += sec
        tk.off_max = max(tk.off_max, sec)
        tk.preempt_off = 0
    elif op == S.MIGRATE_OFF:
        dur = costs[COST_MIGRATE_OFF]
        tk.migrate_off = 1
    elif op == S.MIGRATE_ON:
        dur = costs[COST_MIGRATE_ON]
        tk.migrate_off = 0
    elif op == S.KMALLOC:
        if length > 0:                        # nothing to hold: no allocation
            dur = costs[COST_KMALLOC_KFREE]
            s.k[COUNT_KMALLOCS] += 1
    elif op == S.KFREE:
        dur = 0
    elif (op == S.STRNLEN or op == S.FAULT_IN or op == S.COPY_TO_SLOT
          or op == S.COPY_TO_SCRATCH or op == S.COPY_TO_BOUNCE):
        is_copy = op != S.STRNLEN and op != S.FAULT_IN
        if op == S.STRNLEN and w.kind_payload[tk.kind] != PAYLOAD_STRING:
            pass                              # a buffer's length is known
        elif op == S.COPY_TO_SLOT and dropped:
            pass                              # no slot: the copy is skipped
        elif is_copy and length == 0:
            pass                              # no payload: no copy_from_user
        else:
            if tk.resuming == 0:
                minor, major, missing = _touch(w, s, task, t, arg == 0, is_copy)
                if is_copy:
                    tk.missing = 1 if missing else 0
                if major > 0:
                    tk.resuming = 1
                    tk.step_minor = minor
                    tk.state = SLEEP
                    s.k[COUNT_SLEEPS] += 1
                    heap_push(s, t + major, task)
                    _release(w, s, cpu, t)
                    return np.int64(-1)
            else:
                minor = tk.step_minor
                tk.resuming = 0
            dur = minor
            if op == S.STRNLEN:
                dur += costs[COST_STRNLEN_BYTE] * length
            elif op == S.FAULT_IN:
                if length > 0:                # one touch per page
                    dur += costs[COST_MEMCPY_CALL] * ((tk.user_addr + length - 1) // PAGE
                                             - tk.user_addr // PAGE + 1)
            else:
                dur += costs[COST_COPY_USER_CALL] + costs[COST_COPY_USER_BYTE] * length + costs[COST_COPY_FROM_USER_EXTRA]
                _copy_user(w, s, ring, task, cpu,
                           D_SLOT if op == S.COPY_TO_SLOT else (
                               D_SCRATCH if op == S.COPY_TO_SCRATCH else D_BOUNCE))
    elif op == S.MEMCPY_SCRATCH or op == S.MEMCPY_BOUNCE:
        if not dropped and length > 0:       # no payload: no memcpy
            dur = costs[COST_MEMCPY_CALL] + costs[COST_MEMCPY_BYTE] * length
            _copy_kernel(w, s, ring, task, cpu, D_SCRATCH if op == S.MEMCPY_SCRATCH else D_BOUNCE)
    elif op == S.RESERVE:
        header = ring.geo[B.G_HEADER]
        size = B.record_size(header, length)
        dur = costs[COST_CLOCK_READ] + costs[COST_MEMCPY_BYTE] * header
        if arg:
            dur += costs[COST_ATOMIC_CMPXCHG]
            s.k[COUNT_ATOMIC_OPS] += 1
        else:
            dur += costs[COST_LOCAL_CMPXCHG]
        off = B.reserve(ring, cpu, size)
        if off < 0:
            tk.status = -off               # R_LOST_* -> ST_LOST_*
        else:
            tk.status = ST_RECORDED
            tk.reserve_buf = cpu
            tk.reserve_cpu = cpu
            tk.buf_offset = off
            tk.slot_size = size
            tk.tsc = t
            B.write_header(ring, cpu, off, length, np.int64(tk.kind),
                           0, t, tk.event, tk.user_addr)
    elif op == S.ROLLBACK:
        if not dropped:
            dur = costs[COST_LOCAL_CMPXCHG]
            B.rollback_or_pad(ring, np.int64(tk.reserve_buf), tk.buf_offset,
                              np.int64(tk.slot_size),
                              B.C_LOCAL if cpu == tk.reserve_buf else B.C_REMOTE, t)
            tk.slot_size = -1
            tk.reserve_cpu = -1
            tk.record_flags &= ~B.F_DATA_MISSING   # no slot any more
    elif (op == S.COMMIT_LOCAL or op == S.COMMIT_SPLIT or op == S.COMMIT_ATOMIC
          or op == S.COMMIT_UNSAFE):      # unsafe: as split here (sequential)
        if not dropped:
            b = np.int64(tk.reserve_buf)
            if op == S.COMMIT_ATOMIC:
                how = B.C_ATOMIC
                dur = costs[COST_ATOMIC_ADD]
            elif (op == S.COMMIT_SPLIT or op == S.COMMIT_UNSAFE) and cpu != b:
                how = B.C_REMOTE
                dur = costs[COST_ATOMIC_ADD_CONTENDED]
            else:
                how = B.C_LOCAL
                dur = costs[COST_LOCAL_ADD]
            if how != B.C_LOCAL:
                s.k[COUNT_ATOMIC_OPS] += 1
            if cpu != b:
                s.k[COUNT_MIGRATIONS] += 1
            B.commit(ring, b, tk.buf_offset, np.int64(tk.slot_size), how, t)
            pin = t - tk.tsc
            tk.pin = pin
            s.h[HIST_PIN, bin_of(pin)] += 1
            s.k[COUNT_MAX_PIN] = max(s.k[COUNT_MAX_PIN], pin)
            tk.commit_cpu = cpu
            tk.slot_size = -1
    elif op == S.READ_CS:
        dur = costs[COST_CS_COUNT_READ]
        tk.cs_snapshot = s.cpu[cpu].nr_switches
    elif op == S.RETRY_IF_CS:
        dur = costs[COST_CS_COUNT_READ]
        if s.cpu[cpu].nr_switches != tk.cs_snapshot:
            slot = prog[pc, S.SLOT]
            if s.jumps[task, slot] < prog[pc, S.BOUND]:
                s.jumps[task, slot] += 1
                tk.retries += 1
                s.k[COUNT_RETRIES] += 1
                nxt = prog[pc, S.TARGET]
            else:
                _mark(tk, D_SCRATCH, True)   # the scratch copy may be torn
    elif op == S.IF_MISSING:
        if tk.missing:
            slot = prog[pc, S.SLOT]
            if s.jumps[task, slot] < prog[pc, S.BOUND]:
                s.jumps[task, slot] += 1
                tk.restarts += 1
                s.k[COUNT_RESTARTS] += 1
                tk.missing = 0
                nxt = prog[pc, S.TARGET]
    elif op == S.GOTO:
        nxt = prog[pc, S.TARGET]
    tk.pc = nxt
    tk.cpu_ps += dur
    tk.last_dur = dur
    tk.last_preemptible = 1 - tk.preempt_off
    return dur
