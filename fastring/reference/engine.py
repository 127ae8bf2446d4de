"""A slow, obvious pure-Python model of the engine: :mod:`fastring.engine`'s oracle.

Written for reading, not speed. It has the compiled engine's semantics exactly
(same happenings in the same order, same random draws with the same keys,
same bytes in the buffers), but spelled out with plain Python objects:

* a :class:`Task` and a :class:`Cpu` dataclass instead of rows of int64
  arrays;
* a ``heapq`` of ``(time, code)`` tuples for the pending happenings. The
  compiled engine lets a running task execute its next step directly while
  that step comes before the heap top; that is the same as pushing the step
  and popping the smallest happening, which is what this module does;
* :class:`fastring.reference.buffer.CpuBuffer` for the buffers (never the
  kernels of :mod:`fastring.model.buffer`);
* :func:`fastring.model.rng.u01_py` for every uniform, and the exponential
  and lognormal draws of :mod:`fastring.model.rng` (ziggurats, its own
  table-driven ``log`` and ``exp``) run as plain Python;
* the compiled strategy program (rows ``[op, arg, target, bound, slot]`` from
  :func:`fastring.strategies.compile_program`) interpreted through a table
  ``opcode -> method``.

The inputs are the same prepared world as the engine's
(:func:`fastring.world.prepare`: parameters in ps, cost vector, syscall mix,
working sets, injections, user-memory arena), unpacked into named Python
values.

Time is integer picoseconds, as in the engine and its per-event rows.

Random draws (all ``u01_py(seed, stream, a, b)``):

=================  ==========================================================
think time         ``S_THINK``: ``(task, 0)`` at start, ``(event, 1)`` after
                   each event
kind, length,      ``S_KIND (event, 0)``, ``S_LEN (event, 0)``,
address            ``S_ADDR (event, 0)``
bernoulli pages    ``S_PAGE (event, j)``, ``j`` the page's index in the payload
initial residency  ``S_EVICT (page, 2**40)``
replayed capture   no draw for kind, length, address and think time: the
                   world's ``tr_*`` arrays (:mod:`fastring.world.replay`)
everything else    the task's per-event counter ``draws``, reset when the
                   event is issued: ``(event, draws)`` on the streams
                   ``S_MIGRATE``, ``S_WHERE``, ``S_PREEMPT``, ``S_FAULT_NS``
                   (one per fault), ``S_PAGE`` (residency, and a
                   reclaimed page's kind), ``S_EVICT`` (eviction or
                   reclaim time)
=================  ==========================================================
"""
from __future__ import annotations

import bisect
import heapq
from collections import Counter

from ..config import programs
from ..model import strategies as S
from ..model.buffer import F_DATA_MISSING, moves_bytes
from ..world.costs import COST_KEYS
from ..model.rng import (S_ADDR, S_EVICT, S_FAULT_NS, S_KIND, S_LEN, S_MIGRATE, S_PAGE,
                         S_THINK, S_WHERE, exponential_py as exponential, lognormal_py
                         as lognormal, u01_py)
from ..world.prepare import (F_MAJOR, F_MINOR, F_PMAJ_MISSING, F_PMAJOR, F_PMIGRATE,
                             F_PMINOR, F_RECLAIM, F_RESIDENCY, F_SIGMA, F_THINK,
                             FAULT_MAJOR, P_ARENA, P_CAPMAX, P_EVENTS, P_FMODEL,
                             P_LOOPS, P_NCPU, P_NTASK, P_TRACE, P_PERIOD, P_READ_PSB,
                             P_SEED, P_TIMESLICE, P_VERIFY, PAGE, PAYLOAD_NONE, prepare)
from ..sim import layout
from ..sim.layout import EVENT_COLUMNS, HIST_NAMES
from .buffer import CpuBuffer
from .actors import (Task, Cpu, RefResult, bin_of, UNSEEN, IN,
                     MISSING_MINOR, MISSING_MAJOR, INJECTED, RECORDED)
from .steps import ProbeSteps

# the engine's counters, then the global counts it keeps apart
COUNTER_NAMES = layout.COUNTER_NAMES + layout.GLOBAL_COUNTER_NAMES

__all__ = ["simulate", "RefResult", "Task", "Cpu", "Reference",
           "EVENT_COLUMNS", "COUNTER_NAMES", "HIST_NAMES", "bin_of"]


class Reference(ProbeSteps):
    """The whole simulation of one strategy, one happening at a time."""

    def __init__(self, cfg: dict, strategy: str, world=None):
        w = world if world is not None else prepare(cfg)
        p = [int(x) for x in w.p]
        f = [float(x) for x in w.f]
        self.seed = p[P_SEED]
        self.n_events = p[P_EVENTS]
        self.n_cpus = p[P_NCPU]
        self.n_tasks = p[P_NTASK]
        self.timeslice = p[P_TIMESLICE]
        self.capture_max = p[P_CAPMAX]
        self.read_period = p[P_PERIOD]
        self.read_ps_per_byte_x1000 = p[P_READ_PSB]
        self.verify = p[P_VERIFY] != 0
        self.residency_model = p[P_FMODEL] == 1
        self.arena_size = p[P_ARENA]
        self.p_migrate = f[F_PMIGRATE]
        self.think_mean = f[F_THINK]
        self.p_minor = f[F_PMINOR]
        self.p_major = f[F_PMAJOR]
        self.residency_mean = f[F_RESIDENCY]   # reclaim included
        self.reclaim_mean = f[F_RECLAIM]          # 0: no reclaim
        self.reclaim = not self.residency_model and self.reclaim_mean > 0
        self.p_major_given_missing = f[F_PMAJ_MISSING]
        self.minor_median = f[F_MINOR]
        self.major_median = f[F_MAJOR]
        self.fault_sigma = f[F_SIGMA]
        self.cost = dict(zip(COST_KEYS, (int(c) for c in w.costs)))
        self.kind_cdf = [float(x) for x in w.kind_cdf]
        self.kind_payload = [int(x) for x in w.kind_payload]
        self.kind_median = [float(x) for x in w.kind_median]
        self.kind_sigma = [float(x) for x in w.kind_sigma]
        self.ws_base = [int(x) for x in w.ws_base]
        self.ws_bytes = int(w.ws_bytes)
        self.injections = {int(e): (int(k), int(d)) for e, k, d in
                           zip(w.inj_event, w.inj_kind, w.inj_delay)}
        self.arena = bytes(w.arena)
        # a replayed capture: each task's syscalls (kind, length, address,
        # think time before it), replayed trace_loops times
        self.replay = p[P_TRACE] != 0
        self.loops = p[P_LOOPS]
        self.script = [list(zip(*(map(int, a[w.tr_start[i]:w.tr_start[i + 1]])
                                  for a in (w.tr_kind, w.tr_len, w.tr_addr, w.tr_think))))
                       for i in range(self.n_tasks)] if self.replay else []
        self.n_kinds = len(self.kind_cdf)

        self.program = [tuple(int(x) for x in row)
                        for row in programs(cfg, [strategy])[strategy]]

        b = cfg["buffer"]
        self.header_size = b["header_size"]
        self.buffers = [CpuBuffer(b["subbuf_size"], b["n_subbuf"],
                                  b["header_size"], b["mode"], b["payload"])
                        for _ in range(self.n_cpus)]
        self.delivered = [[] for _ in range(self.n_cpus)]
        # payload bytes: with buffer.payload = "sizes" there are none (the
        # arena is empty, a copy moves b"") and the staging buffers are empty
        self.carries_bytes = moves_bytes(cfg)
        stage = self.capture_max if self.carries_bytes else 0
        self.scratch = [bytearray(stage) for _ in range(self.n_cpus)]
        self.bounce = [bytearray(stage) for _ in range(self.n_tasks)]

        self.tasks = [Task(i, i % self.n_cpus) for i in range(self.n_tasks)]
        self.cpus = [Cpu(c) for c in range(self.n_cpus)]
        self.heap: list[tuple[int, int]] = []
        self.now = 0
        self.issued = 0
        self.tasks_done = 0
        self.rows: list[tuple] = []
        self.k = dict.fromkeys(COUNTER_NAMES, 0)
        self.hist = {name: Counter() for name in HIST_NAMES}
        self.resident: list[int] = []     # residency model: page -> evicted at

        self.ops = {
            S.PREEMPT_OFF: self.op_preempt_off,
            S.PREEMPT_ON: self.op_preempt_on,
            S.MIGRATE_OFF: self.op_migrate_off,
            S.MIGRATE_ON: self.op_migrate_on,
            S.KMALLOC: self.op_kmalloc,
            S.KFREE: self.op_kfree,
            S.STRNLEN: self.op_user_access,
            S.FAULT_IN: self.op_user_access,
            S.COPY_TO_SLOT: self.op_user_access,
            S.COPY_TO_SCRATCH: self.op_user_access,
            S.COPY_TO_BOUNCE: self.op_user_access,
            S.MEMCPY_SCRATCH: self.op_memcpy,
            S.MEMCPY_BOUNCE: self.op_memcpy,
            S.RESERVE: self.op_reserve,
            S.ROLLBACK: self.op_rollback,
            S.COMMIT_LOCAL: self.op_commit,
            S.COMMIT_SPLIT: self.op_commit,
            S.COMMIT_UNSAFE: self.op_commit,
            S.COMMIT_ATOMIC: self.op_commit,
            S.READ_CS: self.op_read_cs,
            S.RETRY_IF_CS: self.op_retry_if_cs,
            S.IF_MISSING: self.op_if_missing,
            S.GOTO: self.op_goto,
        }
        self._init()

    # -- random draws ---------------------------------------------------------
    def u(self, stream, a, b):
        return u01_py(self.seed, stream, a, b)

    def draw(self, task: Task, stream: int) -> float:
        """The next uniform of the task's current event."""
        k = task.draws
        task.draws += 1
        return self.u(stream, task.event, k)

    # -- the heap of pending happenings -------------------------------------
    def push(self, t: int, code: int):
        heapq.heappush(self.heap, (t, code))

    def reader_code(self, b: int) -> int:
        return self.n_tasks + b

    # -- start ------------------------------------------------------------------
    def next_syscall(self, task: Task):
        """Replay: (kind, length, addr, think) of the task's next syscall,
        or None when it has replayed them all ``loops`` times."""
        mine = self.script[task.index]
        if task.seq >= len(mine) * self.loops:
            return None
        return mine[task.seq % len(mine)]

    def think_time(self, task: Task, key: int, which: int) -> int:
        if self.replay:
            nxt = self.next_syscall(task)
            return nxt[3] if nxt is not None else 0
        return int(exponential(self.u(S_THINK, key, which), self.think_mean))

    def _init(self):
        for task in self.tasks:
            self.push(self.think_time(task, task.index, 0), task.index)
        for b in range(self.n_cpus):
            self.push(self.read_period, self.reader_code(b))
        if self.residency_model:
            self.resident = [int(exponential(self.u(S_EVICT, page, 1 << 40),
                                             self.residency_mean))
                             for page in range(self.arena_size // PAGE)]

    # -- the main loop ----------------------------------------------------------
    def run(self, max_happenings: int | None = None) -> RefResult:
        n = 0
        while self.heap:
            n += 1
            if max_happenings is not None and n > max_happenings:
                raise RuntimeError(f"no end after {max_happenings} happenings")
            t, code = heapq.heappop(self.heap)
            self.now = t
            if code >= self.n_tasks:
                self.reader_wakes(code - self.n_tasks, t)
                continue
            task = self.tasks[code]
            if task.state == "think":
                self.think_ends(task, t)
            elif task.state == "sleep":
                self.place(task, t, may_migrate=not task.migrate_off)
            elif task.state == "run":
                dur = self.step(task, t)
                if dur is not None:
                    self.push(t + dur, task.index)   # its next step
            else:
                raise AssertionError(f"task {code} popped in state {task.state}")
        return RefResult(rows=self.rows, counters=dict(self.k),
                         buffers=self.buffers, delivered=self.delivered,
                         now=self.now, hists=self.hist)

    def think_ends(self, task: Task, t: int):
        if (self.next_syscall(task) is None if self.replay
                else self.issued >= self.n_events):
            task.state = "done"
            self.tasks_done += 1
            if self.tasks_done == self.n_tasks:
                for buf in self.buffers:
                    buf.flush()        # the final switch: nothing is pinned now
            return
        self.issue(task, t)
        self.place(task, t, may_migrate=True)

    # -- the scheduler ----------------------------------------------------------
    def start(self, cpu: int, task: Task, t: int):
        """``task`` gets ``cpu``: a context switch, then its next step."""
        c = self.cpus[cpu]
        c.curr = task.index
        c.nr_switches += 1
        task.state = "run"
        task.cpu = cpu
        task.last_preemptible = False
        self.push(t + self.cost["context_switch"], task.index)

    def release(self, cpu: int, t: int):
        """The running task leaves ``cpu``; the first ready one gets it."""
        c = self.cpus[cpu]
        c.curr = None
        if c.runqueue:
            self.start(cpu, self.tasks[c.runqueue.popleft()], t)

    def place(self, task: Task, t: int, may_migrate: bool):
        """Make ``task`` ready, on its CPU or (``p_migrate``) another one."""
        cpu = task.cpu
        if may_migrate and self.n_cpus > 1 and self.draw(task, S_MIGRATE) < self.p_migrate:
            hop = 1 + int(self.draw(task, S_WHERE) * (self.n_cpus - 1))
            cpu = (cpu + hop) % self.n_cpus
            task.cpu = cpu
        if self.cpus[cpu].curr is None:
            self.start(cpu, task, t)
        else:
            task.state = "ready"
            self.cpus[cpu].runqueue.append(task.index)

    # -- one syscall event --------------------------------------------------------
    def issue(self, task: Task, t: int):
        ev = self.issued
        self.issued += 1
        self.k["issued"] += 1
        if self.replay:
            kind, length, addr, _ = self.next_syscall(task)
            task.seq += 1
        else:
            kind = bisect.bisect_right(self.kind_cdf, self.u(S_KIND, ev, 0))
            kind = min(kind, self.n_kinds - 1)
            length = 0
            if self.kind_payload[kind] != PAYLOAD_NONE:
                x = lognormal(self.u(S_LEN, ev, 0), self.kind_median[kind],
                              self.kind_sigma[kind])
                length = int(min(max(x + 0.5, 1.0), float(self.capture_max)))
            span = max(self.ws_bytes, length)
            base = min(self.ws_base[task.index], self.arena_size - span)
            addr = base + int(self.u(S_ADDR, ev, 0) * (span - length + 1))
        inj_kind, inj_delay = self.injections.get(ev, (0, 0))
        task.begin_event(ev, kind, length, addr,
                         n_pages=self.capture_max // PAGE + 2,
                         injection=(inj_kind, inj_delay))

    def fault_service(self, task: Task, major: bool) -> int:
        """Service time (ps) of one fault: lognormal around the median."""
        median = self.major_median if major else self.minor_median
        return int(lognormal(self.draw(task, S_FAULT_NS), median, self.fault_sigma) + 0.5)

    def touch(self, task: Task, t: int, may_fault: bool, is_copy: bool):
        """Touch every page of the payload at ``t``: (minor ps, major ps,
        a page was missing and could not be faulted in)."""
        if task.payload_len == 0:
            return 0, 0, False
        first = task.user_addr // PAGE
        last = (task.user_addr + task.payload_len - 1) // PAGE
        if is_copy and task.injected_kind:
            task.pages[0] = INJECTED      # forced at the first copy's first page
        minor = major = 0
        missing = False
        for j in range(last - first + 1):
            page = first + j
            state = task.pages[j]
            if self.reclaim and state == IN and t >= task.reclaimed_at[j]:
                # memory pressure took the page back since this event had it
                if self.draw(task, S_PAGE) < self.p_major_given_missing:
                    state = MISSING_MAJOR
                else:
                    state = MISSING_MINOR
                task.pages[j] = state
            elif state == UNSEEN or (self.residency_model and state == IN):
                if self.residency_model:
                    if self.resident[page] > t:
                        state = IN
                    elif self.draw(task, S_PAGE) < self.p_major_given_missing:
                        state = MISSING_MAJOR
                    else:
                        state = MISSING_MINOR
                else:
                    u = self.u(S_PAGE, task.event, j)
                    if u < self.p_minor:
                        state = MISSING_MINOR
                    elif u < self.p_minor + self.p_major:
                        state = MISSING_MAJOR
                    else:
                        state = IN
                        if self.reclaim:
                            task.reclaimed_at[j] = t + self.reclaim_delay(task)
                task.pages[j] = state
            if state == IN:
                continue
            if not may_fault:
                missing = True
                continue
            if state == INJECTED:
                service = task.injected_delay
                is_major = task.injected_kind == FAULT_MAJOR
                task.injected_kind = 0
            else:
                is_major = state == MISSING_MAJOR
                service = self.fault_service(task, is_major)
            if is_major:
                major += service
                task.faults_major += 1
                self.k["faults_major"] += 1
            else:
                minor += service
                task.faults_minor += 1
                self.k["faults_minor"] += 1
            task.pages[j] = IN
            if self.residency_model:
                self.resident[page] = t + minor + major + int(
                    exponential(self.draw(task, S_EVICT), self.residency_mean))
            elif self.reclaim:
                task.reclaimed_at[j] = t + minor + major + self.reclaim_delay(task)
        return minor, major, missing

    def reclaim_delay(self, task: Task) -> int:
        """How long until reclaim takes a page back (exponential)."""
        return int(exponential(self.draw(task, S_EVICT), self.reclaim_mean))

    def finish(self, task: Task, t: int):
        """The probe is over: account the event, then the task thinks."""
        k = self.k
        latency = t - task.start
        k["events"] += 1
        k["completed"] += 1
        k["payload_bytes"] += task.payload_len
        k["cpu_ps"] += task.cpu_ps
        if task.status != RECORDED:
            k["lost_events"] += 1
        elif task.record_flags & F_DATA_MISSING:
            k["data_missing"] += 1
        if task.injected_kind and task.pages[0] != INJECTED:
            k["inject_unapplied"] += 1    # no copy touched a user page
        self.hist["latency"][bin_of(latency)] += 1
        self.hist["preempt_off"][bin_of(task.off_sum)] += 1
        self.hist["preempt_section"][bin_of(task.off_max)] += 1
        k["max_latency_ps"] = max(k["max_latency_ps"], latency)
        k["max_preempt_off_ps"] = max(k["max_preempt_off_ps"], task.off_sum)
        k["max_preempt_section_ps"] = max(k["max_preempt_section_ps"], task.off_max)
        row = {
            "event": task.event, "task": task.index, "kind": task.kind,
            "payload_len": task.payload_len, "start_ps": task.start, "end_ps": t,
            "reserve_cpu": task.reserve_cpu, "commit_cpu": task.commit_cpu,
            "status": task.status, "flags": task.record_flags,
            "faults_minor": task.faults_minor, "faults_major": task.faults_major,
            "restarts": task.restarts, "retries": task.retries,
            "preempt_off_ps": task.off_sum, "preempt_section_ps": task.off_max,
            "pin_ps": task.pin if task.commit_cpu >= 0 else -1,
            "cpu_ps": task.cpu_ps, "user_addr": task.user_addr}
        self.rows.append(tuple(row[c] for c in EVENT_COLUMNS))
        task.state = "think"
        self.push(t + self.think_time(task, task.event, 1), task.index)
        self.release(task.cpu, t)

    # -- the reader ---------------------------------------------------------------
    def reader_wakes(self, b: int, t: int):
        """Finish the sub-buffer being read (delivered now), then start on
        the next complete one, or sleep a period."""
        buf = self.buffers[b]
        if buf.reading is not None:
            taken = buf.end_read(t, self.verify, self.arena, self.capture_max,
                                 self.n_kinds)
            self.delivered[b].extend(taken)
            for _event, _flags, latency in taken:
                self.hist["delivery"][bin_of(latency)] += 1
        if buf.begin_read():
            self.push(t + buf.subbuf_size * self.read_ps_per_byte_x1000 // 1000,
                      self.reader_code(b))
            return
        if self.tasks_done == self.n_tasks and buf.read == buf.write:
            return                        # drained after the last event
        self.push(t + self.read_period, self.reader_code(b))


def simulate(cfg: dict, strategy: str, *, world=None,
             max_happenings: int | None = None) -> RefResult:
    """Run ``strategy`` on the (validated) config ``cfg`` from start to end."""
    return Reference(cfg, strategy, world).run(max_happenings)
