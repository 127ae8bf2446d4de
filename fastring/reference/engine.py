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
  kernels of :mod:`fastring.buffer`);
* :func:`fastring.rng.u01_py` for every uniform, the exponential and
  lognormal formulas of :mod:`fastring.rng` written out with :mod:`math`, and
  its normal quantile (AS241) as plain Python;
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
                   world's ``tr_*`` arrays (:mod:`fastring.replay`)
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
import math
import struct
from collections import Counter, deque
from dataclasses import dataclass, field

from .. import engine as _engine   # only for EVENT_COLUMNS, the row contract
from .. import strategies as S
from ..buffer import F_DATA_MISSING, H_FLAGS
from ..costs import COST_KEYS
from ..rng import (S_ADDR, S_EVICT, S_FAULT_NS, S_KIND, S_LEN, S_MIGRATE,
                   S_PAGE, S_PREEMPT, S_THINK, S_WHERE, normal_quantile_py,
                   u01_py)
from ..world import (F_MAJOR, F_MINOR, F_PMAJ_MISSING, F_PMAJOR, F_PMIGRATE,
                     F_PMINOR, F_RECLAIM, F_RESIDENCY, F_SIGMA, F_THINK,
                     FAULT_MAJOR,
                     P_ARENA, P_CAPMAX, P_EVENTS, P_FMODEL, P_LOOPS, P_NCPU, P_NTASK,
                     P_TRACE,
                     P_PERIOD, P_READ_PSB, P_SEED, P_TIMESLICE, P_VERIFY, PAGE,
                     PAYLOAD_NONE, PAYLOAD_STRING, prepare)
from .buffer import HEADER_FMT, CpuBuffer

__all__ = ["simulate", "RefResult", "Task", "Cpu", "Reference",
           "EVENT_COLUMNS", "COUNTER_NAMES", "HIST_NAMES", "bin_of"]

# -- per-event rows: the engine's columns (its contract), filled by name ------
EVENT_COLUMNS = _engine.EVENT_COLUMNS
ROW_FIELDS = ("event", "task", "kind", "payload_len", "start_ps", "end_ps",
              "reserve_cpu", "commit_cpu", "status", "flags", "faults_minor",
              "faults_major", "restarts", "retries", "preempt_off_ps",
              "preempt_section_ps", "pin_ps", "cpu_ps", "user_addr")
COUNTER_NAMES = ("events", "restarts", "retries", "faults_minor",
                 "faults_major", "migrations", "atomic_ops", "kmallocs",
                 "payload_bytes", "copied_bytes", "data_missing", "cpu_ps",
                 "max_latency_ps", "max_preempt_off_ps",
                 "max_preempt_section_ps", "max_pin_ps", "preemptions",
                 "sleeps", "lost_events", "inject_unapplied", "issued",
                 "completed", "steps")
HIST_NAMES = ("latency", "preempt_off", "preempt_section", "pin", "delivery")

# event status (row column "status")
RECORDED, LOST_FULL, LOST_WRAP, LOST_BIG = 0, 1, 2, 3
LOSS_STATUS = {"lost_full": LOST_FULL, "lost_wrap": LOST_WRAP,
               "lost_big": LOST_BIG}

# what the task knows about each page of its current event's payload
UNSEEN, IN, MISSING_MINOR, MISSING_MAJOR, INJECTED = range(5)

# where a user copy goes / a kernel copy comes from
SLOT, SCRATCH, BOUNCE = "slot", "scratch", "bounce"


# -- random numbers: fastring.rng's formulas, in plain Python -----------------

def exponential(u: float, mean: float) -> float:
    return -math.log(1.0 - u) * mean


def lognormal(u: float, median: float, sigma: float) -> float:
    """AS241's normal quantile of ``u`` (:func:`fastring.rng.normal_quantile_py`,
    itself checked against :meth:`statistics.NormalDist.inv_cdf`)."""
    return median * math.exp(sigma * normal_quantile_py(u))


# -- the log-linear histogram bins of fastring.histogram ----------------------

SUB_BITS = 7


def bin_of(v: int) -> int:
    sub = 1 << SUB_BITS
    if v < sub:
        return max(v, 0)
    e = v.bit_length() - 1
    return (e - SUB_BITS + 1) * sub + ((v >> (e - SUB_BITS)) & (sub - 1))


# -- the actors ------------------------------------------------------------------

@dataclass
class Task:
    """One user task: thinks, issues a syscall, runs its probe, repeats."""
    index: int
    cpu: int                          # the CPU it runs on / is queued on / last ran on
    state: str = "think"              # think, ready, run, sleep, done
    seq: int = 0                      # replay: syscalls issued so far
    # the current event
    event: int = -1
    kind: int = 0
    length: int = 0
    addr: int = 0
    start: int | None = None          # the probe's first step (latency from there)
    draws: int = 0                    # per-event draw counter
    pc: int = 0
    resuming: bool = False            # the step at pc slept on a major fault
    step_minor: int = 0               # minor-fault time of that step, taken before
    pages: list = field(default_factory=list)
    reclaimed_at: dict = field(default_factory=dict)  # bernoulli + reclaim
    jumps: Counter = field(default_factory=Counter)   # per bounded-jump slot
    injected_kind: int = 0            # pending fault injection (FAULT_MINOR/MAJOR)
    injected_delay: int = 0
    # probe state
    flags: int = 0                    # record flags (F_DATA_MISSING)
    missing: bool = False             # the last user copy found a page missing
    zeroed: set = field(default_factory=set)   # SLOT/SCRATCH/BOUNCE holding zeros
    status: int = RECORDED
    res_buf: int = -1
    res_off: int = 0
    res_size: int = -1
    res_time: int = 0
    res_cpu: int = -1
    commit_cpu: int = -1
    pin: int = 0
    cs_snapshot: int = 0
    preempt_off: bool = False
    migrate_off: bool = False
    section_start: int = 0
    last_dur: int = 0
    last_preemptible: bool = False
    # per-event accounting
    off_sum: int = 0
    off_max: int = 0
    cpu_ps: int = 0
    faults_minor: int = 0
    faults_major: int = 0
    restarts: int = 0
    retries: int = 0

    def begin_event(self, event, kind, length, addr, n_pages, injection):
        """A new syscall event: everything per event starts afresh. (Kept
        across events, as in the engine: state, cpu, res_off, res_time,
        cs_snapshot, section_start, last_dur, last_preemptible; a valid
        program sets each before it reads it.)"""
        self.event, self.kind, self.length, self.addr = event, kind, length, addr
        self.start = None                 # set by the probe's first step
        self.draws = 0
        self.pc = 0
        self.resuming = False
        self.step_minor = 0
        self.pages = [UNSEEN] * n_pages
        self.reclaimed_at = {}            # bernoulli + reclaim: page index -> time
        self.jumps = Counter()
        self.injected_kind, self.injected_delay = injection
        self.flags = 0
        self.missing = False
        self.zeroed = set()
        self.status = RECORDED
        self.res_buf = self.res_cpu = self.commit_cpu = -1
        self.res_size = -1
        self.pin = 0
        self.preempt_off = self.migrate_off = False
        self.off_sum = self.off_max = self.cpu_ps = 0
        self.faults_minor = self.faults_major = 0
        self.restarts = self.retries = 0


@dataclass
class Cpu:
    index: int
    current: int | None = None        # the task running on it
    switches: int = 0                 # context-switch count
    runqueue: deque = field(default_factory=deque)   # ready tasks, FIFO


@dataclass
class RefResult:
    rows: list                        # per-event tuples (EVENT_COLUMNS), completion order
    counters: dict                    # COUNTER_NAMES -> int
    buffers: list                     # CpuBuffer per CPU, final state
    delivered: list                   # per buffer: [(event, flags, delivery_ps), ...]
    now: int                          # time of the last happening (ps)
    hists: dict = field(default_factory=dict)   # HIST_NAMES -> Counter(bin -> n)


class Reference:
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

        unknown = [c for c in EVENT_COLUMNS if c not in ROW_FIELDS]
        if unknown:
            raise NotImplementedError(f"the reference does not know the event "
                                      f"column(s) {unknown} of fastring.engine")

        prog_cfg = {**cfg, "run": {**cfg["run"], "strategies": [strategy]}}
        self.program = [tuple(int(x) for x in row)
                        for row in S.programs(prog_cfg)[strategy]]

        b = cfg["buffer"]
        self.header_size = b["header_size"]
        self.buffers = [CpuBuffer(b["subbuf_size"], b["n_subbuf"],
                                  b["header_size"], b["mode"])
                        for _ in range(self.n_cpus)]
        self.delivered = [[] for _ in range(self.n_cpus)]
        self.scratch = [bytearray(self.capture_max) for _ in range(self.n_cpus)]
        self.bounce = [bytearray(self.capture_max) for _ in range(self.n_tasks)]

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
        c.current = task.index
        c.switches += 1
        task.state = "run"
        task.cpu = cpu
        task.last_preemptible = False
        self.push(t + self.cost["context_switch"], task.index)

    def release(self, cpu: int, t: int):
        """The running task leaves ``cpu``; the first ready one gets it."""
        c = self.cpus[cpu]
        c.current = None
        if c.runqueue:
            self.start(cpu, self.tasks[c.runqueue.popleft()], t)

    def place(self, task: Task, t: int, may_migrate: bool):
        """Make ``task`` ready, on its CPU or (``p_migrate``) another one."""
        cpu = task.cpu
        if may_migrate and self.n_cpus > 1 and self.draw(task, S_MIGRATE) < self.p_migrate:
            hop = 1 + int(self.draw(task, S_WHERE) * (self.n_cpus - 1))
            cpu = (cpu + hop) % self.n_cpus
            task.cpu = cpu
        if self.cpus[cpu].current is None:
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
        if task.length == 0:
            return 0, 0, False
        first = task.addr // PAGE
        last = (task.addr + task.length - 1) // PAGE
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
        k["payload_bytes"] += task.length
        k["cpu_ps"] += task.cpu_ps
        if task.status != RECORDED:
            k["lost_events"] += 1
        elif task.flags & F_DATA_MISSING:
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
            "payload_len": task.length, "start_ps": task.start, "end_ps": t,
            "reserve_cpu": task.res_cpu, "commit_cpu": task.commit_cpu,
            "status": task.status, "flags": task.flags,
            "faults_minor": task.faults_minor, "faults_major": task.faults_major,
            "restarts": task.restarts, "retries": task.retries,
            "preempt_off_ps": task.off_sum, "preempt_section_ps": task.off_max,
            "pin_ps": task.pin if task.commit_cpu >= 0 else -1,
            "cpu_ps": task.cpu_ps, "user_addr": task.addr}
        self.rows.append(tuple(row[c] for c in EVENT_COLUMNS))
        task.state = "think"
        self.push(t + self.think_time(task, task.event, 1), task.index)
        self.release(task.cpu, t)

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
        data = bytes(n) if task.missing else self.arena[task.addr:task.addr + n]
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
