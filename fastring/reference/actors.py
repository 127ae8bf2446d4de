"""The reference engine's actors (tasks, CPUs, its result) and the model's
formulas (histogram bins) in plain Python."""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from ..sim.layout import ST_RECORDED, STATUS_NAMES

# event status (row column "status"): the engine's codes, by name
RECORDED = ST_RECORDED
LOSS_STATUS = {name: code for code, name in enumerate(STATUS_NAMES)
               if code != ST_RECORDED}

# what the task knows about each page of its current event's payload
UNSEEN, IN, MISSING_MINOR, MISSING_MAJOR, INJECTED = range(5)

# where a user copy goes / a kernel copy comes from
SLOT, SCRATCH, BOUNCE = "slot", "scratch", "bounce"


# -- the log-linear histogram bins of fastring.model.histogram ----------------------

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
