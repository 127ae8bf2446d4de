"""The reference engine's probe: the strategy program interpreted one step at
a time, each opcode a method (mixed into :class:`fastring.reference.engine.Reference`)."""
from __future__ import annotations

import math
import struct

from ..model import strategies as S
from ..model.buffer import F_DATA_MISSING, H_FLAGS
from ..model.rng import S_PREEMPT
from ..world.prepare import PAGE, PAYLOAD_STRING
from .buffer import HEADER_FMT
from .actors import Task, bin_of, SLOT, SCRATCH, BOUNCE, RECORDED, LOSS_STATUS


class ProbeSteps:
    """The opcodes of a strategy program, as methods of the reference engine."""

    # -- the probe, step by step ----------------------------------------------
    def step(self, task: Task, t: int) -> int | None:
        """Run the task's next step at ``t``: its duration, or None when the
        task left the CPU (preempted, asleep, finished)."""
        self.k["steps"] += 1
        cpu = task.cpu
        if task.last_preemptible and self.cpus[cpu].runqueue:
            hazard = 1.0 - math.exp(-task.last_dur / float(self.timeslice))
            if self.draw(task, S_PREEMPT) < hazard:
                self.k["preemptions"] += 1
                self.release(cpu, t)
                self.place(task, t, may_migrate=not task.migrate_off)
                return None
        if task.start is None:
            task.start = t                # latency counts from the probe's start
        op, arg, target, bound, slot = self.program[task.pc]
        if op == S.END:
            self.finish(task, t)
            return None
        done = self.ops[op](task, t, op, arg, target, bound, slot)
        if done is None:
            return None                   # asleep on a major fault
        dur, nxt = done
        task.pc = nxt
        task.cpu_ps += dur
        task.last_dur = dur
        task.last_preemptible = not task.preempt_off
        return dur

    # Each op: (task, t, op, arg, target, bound, slot) -> (duration, next pc),
    # or None when the task went to sleep.

    def op_preempt_off(self, task, t, op, arg, target, bound, slot):
        task.preempt_off = True
        task.section_start = t
        return self.cost["preempt_off"], task.pc + 1

    def op_preempt_on(self, task, t, op, arg, target, bound, slot):
        dur = self.cost["preempt_on"]
        section = t + dur - task.section_start
        task.off_sum += section
        task.off_max = max(task.off_max, section)
        task.preempt_off = False
        return dur, task.pc + 1

    def op_migrate_off(self, task, t, op, arg, target, bound, slot):
        task.migrate_off = True
        return self.cost["migrate_off"], task.pc + 1

    def op_migrate_on(self, task, t, op, arg, target, bound, slot):
        task.migrate_off = False
        return self.cost["migrate_on"], task.pc + 1

    def op_kmalloc(self, task, t, op, arg, target, bound, slot):
        if task.length == 0:
            return 0, task.pc + 1         # no payload to hold: no allocation
        self.k["kmallocs"] += 1
        return self.cost["kmalloc_kfree"], task.pc + 1

    def op_kfree(self, task, t, op, arg, target, bound, slot):
        return 0, task.pc + 1             # the pair is costed at kmalloc

    def op_user_access(self, task, t, op, arg, target, bound, slot):
        """strnlen, fault_in and the three copy_from_user steps: they touch
        the payload's pages (faults) and, for copies, move its bytes."""
        nxt = task.pc + 1
        is_copy = op in S.USER_COPIES
        if op == S.STRNLEN and self.kind_payload[task.kind] != PAYLOAD_STRING:
            return 0, nxt                 # a buffer's length is known
        if op == S.COPY_TO_SLOT and task.status != RECORDED:
            return 0, nxt                 # no slot: the copy is skipped
        if is_copy and task.length == 0:
            return 0, nxt                 # no payload: no copy_from_user
        if not task.resuming:
            minor, major, missing = self.touch(task, t, may_fault=arg == 0,
                                               is_copy=is_copy)
            if is_copy:
                task.missing = missing
            if major > 0:                 # sleep; the step resumes afterwards
                task.resuming = True
                task.step_minor = minor
                task.state = "sleep"
                self.k["sleeps"] += 1
                self.push(t + major, task.index)
                self.release(task.cpu, t)
                return None
        else:
            minor = task.step_minor
            task.resuming = False
        c = self.cost
        dur = minor
        if op == S.STRNLEN:
            dur += c["strnlen_byte"] * task.length
        elif op == S.FAULT_IN:
            n_pages = 0 if task.length == 0 else (
                (task.addr + task.length - 1) // PAGE - task.addr // PAGE + 1)
            dur += c["memcpy_call"] * n_pages
        else:
            dur += c["copy_user_call"] + c["copy_user_byte"] * task.length \
                + c["copy_from_user_extra"]
            dest = {S.COPY_TO_SLOT: SLOT, S.COPY_TO_SCRATCH: SCRATCH,
                    S.COPY_TO_BOUNCE: BOUNCE}[op]
            self.copy_user(task, dest)
        return dur, nxt

    def copy_user(self, task: Task, dest: str):
        """The payload's bytes into ``dest``; zeros if a page was missing.
        Whether ``dest`` holds zeros belongs to ``dest`` alone."""
        n = task.length
        if not self.carries_bytes:
            data = b""                    # buffer.payload = "sizes"
        elif task.missing:
            data = bytes(n)
        else:
            data = self.arena[task.addr:task.addr + n]
        if dest == SLOT:
            self.write_payload(task, data, task.missing)
        elif dest == SCRATCH:
            self.scratch[task.cpu][:n] = data
        else:
            self.bounce[task.index][:n] = data
        if task.missing:
            task.zeroed.add(dest)
        else:
            task.zeroed.discard(dest)
        self.k["copied_bytes"] += n

    def op_memcpy(self, task, t, op, arg, target, bound, slot):
        """memcpy from this CPU's scratch or the task's bounce buffer: the
        slot holds zeros (DATA_MISSING) exactly when the source did."""
        if task.status != RECORDED or task.length == 0:
            return 0, task.pc + 1         # no slot, or nothing to copy
        n = task.length
        src = SCRATCH if op == S.MEMCPY_SCRATCH else BOUNCE
        data = self.scratch[task.cpu] if src == SCRATCH else self.bounce[task.index]
        self.write_payload(task, bytes(data[:n]), src in task.zeroed)
        self.k["copied_bytes"] += n
        return self.cost["memcpy_call"] + self.cost["memcpy_byte"] * n, task.pc + 1

    def op_reserve(self, task, t, op, arg, target, bound, slot):
        c = self.cost
        size = (self.header_size + task.length + 7) // 8 * 8
        dur = c["clock_read"] + c["memcpy_byte"] * self.header_size
        if arg:                           # lock cmpxchg (lttng-ust)
            dur += c["atomic_cmpxchg"]
            self.k["atomic_ops"] += 1
        else:
            dur += c["local_cmpxchg"]
        buf = self.buffers[task.cpu]
        where = buf.reserve(size)
        if isinstance(where, str):
            task.status = LOSS_STATUS[where]
        else:
            task.status = RECORDED
            task.res_buf = task.res_cpu = task.cpu
            task.res_off = where
            task.res_size = size
            task.res_time = t
            p = buf.slot(where)
            struct.pack_into(HEADER_FMT, buf.data, p, task.length, task.kind,
                             0, t, task.event,
                             task.addr, 0)
        return dur, task.pc + 1

    def op_rollback(self, task, t, op, arg, target, bound, slot):
        if task.status != RECORDED:
            return 0, task.pc + 1
        how = "local" if task.cpu == task.res_buf else "remote"
        self.buffers[task.res_buf].rollback_or_pad(task.res_off, task.res_size,
                                                   how, t)
        task.res_size = -1
        task.res_cpu = -1                 # a later reserve may be lost
        task.flags &= ~F_DATA_MISSING
        return self.cost["local_cmpxchg"], task.pc + 1

    def op_commit(self, task, t, op, arg, target, bound, slot):
        if task.status != RECORDED:
            return 0, task.pc + 1
        b = task.res_buf
        moved = task.cpu != b
        if op == S.COMMIT_ATOMIC:
            how, dur = "atomic", self.cost["atomic_add"]
        elif op in (S.COMMIT_SPLIT, S.COMMIT_UNSAFE) and moved:
            how, dur = "remote", self.cost["atomic_add_contended"]
        else:
            how, dur = "local", self.cost["local_add"]
        if how != "local":
            self.k["atomic_ops"] += 1
        if moved:
            self.k["migrations"] += 1
        self.buffers[b].commit(task.res_off, task.res_size, how, t)
        task.pin = t - task.res_time
        self.hist["pin"][bin_of(task.pin)] += 1
        self.k["max_pin_ps"] = max(self.k["max_pin_ps"], task.pin)
        task.commit_cpu = task.cpu
        task.res_size = -1
        return dur, task.pc + 1

    def op_read_cs(self, task, t, op, arg, target, bound, slot):
        task.cs_snapshot = self.cpus[task.cpu].switches
        return self.cost["cs_count_read"], task.pc + 1

    def op_retry_if_cs(self, task, t, op, arg, target, bound, slot):
        nxt = task.pc + 1
        if self.cpus[task.cpu].switches != task.cs_snapshot:
            if task.jumps[slot] < bound:
                task.jumps[slot] += 1
                task.retries += 1
                self.k["retries"] += 1
                nxt = target
            else:
                task.zeroed.add(SCRATCH)  # the scratch copy may be torn
        return self.cost["cs_count_read"], nxt

    def op_if_missing(self, task, t, op, arg, target, bound, slot):
        nxt = task.pc + 1
        if task.missing and task.jumps[slot] < bound:
            task.jumps[slot] += 1
            task.restarts += 1
            self.k["restarts"] += 1
            task.missing = False
            nxt = target
        return 0, nxt

    def op_goto(self, task, t, op, arg, target, bound, slot):
        return 0, target

    # -- record bytes -------------------------------------------------------------
    def write_payload(self, task: Task, data: bytes, missing: bool):
        """Write the slot's payload; ``missing``: it stands for bytes that
        could not be read (zeros), so the record is flagged DATA_MISSING;
        else the flag is cleared (the slot now holds the real bytes)."""
        buf = self.buffers[task.res_buf]
        h = buf.slot(task.res_off) + self.header_size
        buf.data[h:h + len(data)] = bytes(len(data)) if missing else data
        p = buf.slot(task.res_off) + H_FLAGS
        (old,) = struct.unpack_from("<H", buf.data, p)
        new = old | F_DATA_MISSING if missing else old & ~F_DATA_MISSING
        struct.pack_into("<H", buf.data, p, new)
        if missing:
            task.flags |= F_DATA_MISSING
            task.zeroed.add(SLOT)
        else:
            task.flags &= ~F_DATA_MISSING
            task.zeroed.discard(SLOT)
