"""What a run will cost, known before it runs: simulated span, work, memory.

The validator accepts every key within its range, but some combinations
cannot run correctly or in reasonable time:

* **the clock**: simulated time is int64 picoseconds, which wrap past 2**63 ps
  (about 106.7 simulated days). :func:`clock_problem` bounds the span a
  config simulates (every probe at its programs' longest: every pass of
  every bounded retry, each step preempted), plus the longest single random
  draw (a think time, a fault, an eviction time), and
  :func:`fastring.config.load` refuses a config whose bound, doubled,
  reaches the limit (``config.checks.check_span``). This is never
  overridable: past it the tables would be wrong. The engine's clock is
  also checked after every chunk (``fastring.api``), as a backstop.
* **work and memory**: :func:`check` refuses, unless forced (``--force``,
  ``fastring.run(..., force=True)``), a run estimated to take more than
  :data:`WORK_LIMIT_S` seconds of engine time (events, and reader wake-ups:
  a reader polls every ``reader.period_ns`` for the whole simulated span on
  every CPU) or more memory than :func:`memory_limit` (half of this
  machine's RAM): the ring, the user-memory arena, per-task state, scratch
  and bounce buffers, and an in-memory events table.

The estimates are deliberately coarse upper-side figures (means, not
percentiles); the messages show them so that a user can see which key to
change.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from ..model import buffer as B
from .. import engine as E
from ..model import histogram as H
from ..model import strategies as S
from ..errors import ConfigError
from ..model.rng import EXPONENTIAL_MAX, NORMAL_MAX
from ..world.prepare import PAGE, read_psb

#: the simulated clock's limit: int64 picoseconds, in ns
CLOCK_LIMIT_NS = (2**63 - 1) / 1000.0
#: the estimated span is doubled before it is compared with the limit
SPAN_MARGIN = 2.0
#: the largest exponential draw, in means, and the largest |normal| draw
EXP_TAIL = EXPONENTIAL_MAX
NORMAL_TAIL = NORMAL_MAX
#: refuse (unless forced) a run estimated to take longer than this, in s
WORK_LIMIT_S = 3600.0
#: engine time per event and per reader wake-up, on the slow side of what
#: the project's 2-core machines measure (~0.6 us and ~10 ns)
NS_PER_EVENT = 1000.0
NS_PER_WAKE = 15.0
#: per-task preparation in Python (its working-set base, world.prepare)
NS_PER_TASK = 2000.0
#: bytes per row of an in-memory events table (Arrow columns)
EVENT_ROW_BYTES = 200


class EstimateError(ConfigError):
    """A run refused for its estimated time or memory (``--force`` overrides)."""


def _days(ns: float) -> str:
    return f"{ns:.3g} ns ({ns / 86400e9:.3g} days)"


def _lognormal_mean(median: float, sigma: float) -> float:
    return median * math.exp(min(sigma * sigma / 2.0, 700.0))


def program_shape(programs: dict) -> tuple[int, int]:
    """(steps, passes): the longest of the run's compiled ``programs`` and
    the most passes one probe can make through it (1 + the sum of its jump
    bounds: the bounds count per event)."""
    shape = (1, 1)
    for p in programs.values():
        shape = (max(shape[0], len(p)),
                 max(shape[1], 1 + int(p[p[:, S.SLOT] >= 0, S.BOUND].sum())))
    return shape


def span_parts(cfg: dict, costs: dict[str, float],
               shape: tuple[int, int] | None = None) -> dict[str, float]:
    """The simulated span of a run (ns), as a sum of named parts, each keyed by
    the config keys that drive it: a task's chain of events (think + probe
    + faults), the CPU load of all events, the injected fault delays, and
    the readers' drain and period. Means, not tails. Without ``shape`` a
    probe is its program run once; with ``shape`` (:func:`program_shape`)
    it is bounded from above: every step of every pass may copy a whole
    payload, fault, and be preempted (a context switch)."""
    run, mach, wl, fl, buf, rd = (cfg[k] for k in ("run", "machine", "workload",
                                                   "faults", "buffer", "reader"))
    events = run["events"]
    n_cpus = mach["n_cpus"]
    n_tasks = n_cpus * mach["tasks_per_cpu"]
    per_task = math.ceil(events / n_tasks) + 1          # + the last think
    pages = wl["capture_max"] // PAGE + 2               # pages one payload spans
    cap = wl["capture_max"] + buf["header_size"] + 8    # bytes a record writes
    per_byte = sum(v for k, v in costs.items() if k.endswith("_byte"))
    fixed = {k: v for k, v in costs.items() if not k.endswith("_byte")}
    minor = _lognormal_mean(fl["minor_ns"], fl["sigma"])
    major = _lognormal_mean(fl["major_ns"], fl["sigma"])
    if fl["model"] == "residency":                      # every touch may miss
        p_minor, p_major = 1 - fl["p_major_given_missing"], fl["p_major_given_missing"]
    else:
        p_minor, p_major = fl["p_minor"], fl["p_major"]
    if shape is None:                                   # every step twice, each
        touches = 2 * pages                             # per-byte cost on the bytes
        probe = 2 * sum(fixed.values()) + cap * per_byte
    else:
        steps = shape[0] * shape[1]
        touches = steps * pages
        probe = steps * (max(fixed.values()) + costs["context_switch"] + cap * per_byte)
    cpu = probe + touches * p_minor * minor             # holds the CPU
    sleep = touches * p_major * major                   # the task sleeps
    return {
        "run.events / workload.think_ns (each task's chain of events)":
            per_task * (wl["think_ns"] + cpu + sleep),
        "run.events / machine.n_cpus (CPU load of the probes and minor faults)":
            events / n_cpus * cpu,
        "faults.inject (delays)":
            float(sum(i["delay_ns"] for i in fl["inject"] if i["event"] < events)),
        "reader.bytes_per_ns / buffer (draining the ring at the end)":
            buf["n_subbuf"] * buf["subbuf_size"] / rd["bytes_per_ns"],
        "reader.period_ns": float(rd["period_ns"]),
    }


def longest_draw(cfg: dict) -> tuple[str, float]:
    """The longest single random delay the engine can draw (ns) and the key
    behind it: it is added to the clock in one step, so it must fit too."""
    mach, wl, fl = cfg["machine"], cfg["workload"], cfg["faults"]
    draws = {"workload.think_ns": EXP_TAIL * wl["think_ns"],
             "machine.timeslice_ns": EXP_TAIL * mach["timeslice_ns"]}
    residency = fl["model"] == "residency"
    tail = math.exp(min(fl["sigma"] * NORMAL_TAIL, 700.0))
    if residency or fl["p_minor"] > 0:
        draws["faults.minor_ns / faults.sigma"] = fl["minor_ns"] * tail
    if residency and fl["p_major_given_missing"] > 0 or fl["p_major"] > 0:
        draws["faults.major_ns / faults.sigma"] = fl["major_ns"] * tail
    if residency:
        draws["faults.residency_ns"] = EXP_TAIL * fl["residency_ns"]
    key = max(draws, key=draws.get)
    return key, draws[key]


def clock_problem(cfg: dict, costs: dict[str, float], programs: dict) -> str | None:
    """Why a run of ``cfg`` (with its compiled ``programs``) could wrap the
    simulated clock (None if it cannot): the message names the dominant key
    and shows the estimate."""
    parts = span_parts(cfg, costs, program_shape(programs))
    span = sum(parts.values())
    draw_key, draw = longest_draw(cfg)
    if SPAN_MARGIN * span + draw <= CLOCK_LIMIT_NS:
        return None
    if SPAN_MARGIN * span >= draw:
        key = max(parts, key=parts.get)
        return (f"{key}: this run would simulate about {_days(span)}; twice "
                f"that reaches the simulated clock's limit of "
                f"{_days(CLOCK_LIMIT_NS)} (int64 picoseconds), and the "
                f"results would be wrong. Lower run.events or the time each "
                f"event takes (largest part: {parts[key]:.3g} ns)")
    return (f"{draw_key}: one random delay can reach {_days(draw)}, beyond "
            f"the simulated clock's limit of {_days(CLOCK_LIMIT_NS)} "
            f"(int64 picoseconds); lower it (the run's span is estimated at "
            f"{_days(span)})")


def read_time_problem(cfg: dict) -> str | None:
    """The reader's time for one sub-buffer must fit the engine's int64
    arithmetic (sub-buffer bytes x ps per byte)."""
    size, bpn = cfg["buffer"]["subbuf_size"], cfg["reader"]["bytes_per_ns"]
    if size * 1e6 / bpn < 2.0**62 and size * read_psb(bpn) <= 2**63 - 1:
        return None
    lowest = size * 1e6 / (2**63 - 1)
    return (f"reader.bytes_per_ns: reading one sub-buffer (buffer.subbuf_size "
            f"= {size} bytes) at {bpn:g} bytes/ns takes {size / bpn:.3g} ns, "
            f"more than the engine's int64 arithmetic holds; must be > "
            f"{lowest:.3g} for this sub-buffer size")


# ------------------------------------------------------------ work, memory

def state_bytes(cfg: dict, n_bounded: int, rows_cap: int) -> dict[str, int]:
    """Bytes of the arrays ``engine.new_state`` and ``buffer.new_ring``
    allocate for one strategy (tests compare with the real arrays)."""
    mach, wl, buf = cfg["machine"], cfg["workload"], cfg["buffer"]
    n_cpus = mach["n_cpus"]
    n_tasks = n_cpus * mach["tasks_per_cpu"]
    cap = max(wl["capture_max"] if B.moves_bytes(cfg) else 0, 1)
    n_sub = n_cpus * buf["n_subbuf"]
    n_heap = n_tasks + n_cpus + 1
    return {
        "buffer.subbuf_size x buffer.n_subbuf x machine.n_cpus (the ring)":
            (n_sub + n_cpus) * buf["subbuf_size"] + 4 * n_sub * 8 + n_cpus * B.N_ST * 8
            + B.N_GEO * 8,
        "machine.tasks_per_cpu x machine.n_cpus (per-task state)":
            n_tasks * (E.TASK_DTYPE.itemsize + 4 * (max(n_bounded, 1) + 1))
            + n_tasks * (wl["capture_max"] // PAGE + 2) * 9 + n_heap * (8 + 4),
        "workload.capture_max x machine.tasks_per_cpu x machine.n_cpus "
        "(bounce buffers)": n_tasks * cap,
        "workload.capture_max x machine.n_cpus (scratch buffers)": n_cpus * cap,
        "workload.user_pages (page residency)": wl["user_pages"] * 8,
        "histograms and counters": (E.N_HISTS + 1) * H.N_BINS * 8
            + (E.N_GLOBAL + E.N_COUNTERS) * 8 + n_cpus * E.CPU_DTYPE.itemsize,
        "run.chunk_events (events chunk)": rows_cap * E.N_E * 8,
    }


@dataclass
class Estimate:
    """A run's estimated cost; ``memory`` maps a part to its bytes."""
    span_ns: float
    wakes: float
    seconds: float
    memory: dict[str, int] = field(default_factory=dict)

    @property
    def memory_bytes(self) -> int:
        return sum(self.memory.values())


def estimate(cfg: dict, costs: dict[str, float], n_bounded: int = 1,
             events_table: bool = False) -> Estimate:
    """The work and peak memory of ``fastring.run(cfg)`` (strategies run one
    after another; the world is shared)."""
    n_strat = len(cfg["run"]["strategies"])
    n_cpus = cfg["machine"]["n_cpus"]
    span = sum(span_parts(cfg, costs).values())
    wakes = n_cpus * span / cfg["reader"]["period_ns"]
    events = cfg["run"]["events"]
    n_tasks = n_cpus * cfg["machine"]["tasks_per_cpu"]
    seconds = 1e-9 * (n_strat * (events * NS_PER_EVENT + wakes * NS_PER_WAKE)
                      + n_tasks * NS_PER_TASK)
    memory = {"workload.user_pages (the user-memory arena)":
              cfg["workload"]["user_pages"] * PAGE if B.moves_bytes(cfg) else 0,
              "machine.tasks_per_cpu x machine.n_cpus (working sets)": n_tasks * 8}
    memory.update(state_bytes(cfg, n_bounded,
                              cfg["run"]["chunk_events"] if events_table else 0))
    if events_table:
        memory["run.events (the in-memory events table)"] = \
            n_strat * events * EVENT_ROW_BYTES
    return Estimate(span, wakes, seconds, memory)


def memory_limit() -> int:
    """Half of this machine's physical memory (8 GiB if unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):   # pragma: no cover
        return 8 << 30


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def check(cfg: dict, costs: dict[str, float], n_bounded: int = 1,
          events_table: bool = False, force: bool = False) -> Estimate:
    """Raise :class:`EstimateError` for a run over the work or memory limit,
    unless ``force``; return the estimate."""
    est = estimate(cfg, costs, n_bounded, events_table)
    if force:
        return est
    if est.seconds > WORK_LIMIT_S:
        n = len(cfg["run"]["strategies"])
        events = cfg["run"]["events"]
        key = ("reader.period_ns" if est.wakes * NS_PER_WAKE > events * NS_PER_EVENT
               else "run.events")
        raise EstimateError(
            f"{key}: this run is estimated to take "
            f"{est.seconds:.3g} s of engine time (limit {WORK_LIMIT_S:g} s): "
            f"{n} strateg{'y' if n == 1 else 'ies'} x ({events} "
            f"events + {est.wakes:.3g} reader wake-ups over a simulated span "
            f"of {_days(est.span_ns)}). Lower run.events, raise "
            f"reader.period_ns, or pass --force (force=True) to run it anyway")
    limit = memory_limit()
    if est.memory_bytes > limit:
        top = sorted(est.memory.items(), key=lambda kv: -kv[1])[:3]
        parts = "; ".join(f"{k}: {_gib(v)}" for k, v in top)
        key = top[0][0].split(" ")[0]
        raise EstimateError(
            f"{key}: this run needs about {_gib(est.memory_bytes)} of memory, "
            f"more than the limit of {_gib(limit)} (half of this machine's "
            f"RAM); largest parts: {parts}. Lower those keys, or pass --force "
            f"(force=True) to run it anyway")
    return est
