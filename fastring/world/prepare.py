"""The world around the buffer, prepared once per run from the config.

Turns the validated config into the fixed-dtype arrays the engine reads:
the syscall mix, each task's working set in the seeded user-memory arena,
the fault injections, the cost vector and the scalar parameters. Nothing
here is random at run time: the arena and working sets come from the seed.
With ``buffer.payload = "sizes"`` no payload byte is ever read, so the arena
is not allocated (``P_ARENA`` still sizes user memory for the addresses).
"""
from __future__ import annotations

import warnings
from collections import namedtuple

import numpy as np

from ..model import buffer as B
from . import replay
from .capture import captured
from ..config import resolved_costs
from .costs import to_ps
from ..model.rng import S_WS, arena as make_arena, u01_py

PAGE = 4096
PAYLOAD_NONE, PAYLOAD_STRING, PAYLOAD_BUFFER = 0, 1, 2
PAYLOADS = {"none": PAYLOAD_NONE, "string": PAYLOAD_STRING, "buffer": PAYLOAD_BUFFER}
FAULT_MODELS = ("bernoulli", "residency")
FAULT_MINOR, FAULT_MAJOR = 1, 2

# int64 parameter vector
(P_SEED, P_EVENTS, P_NCPU, P_NTASK, P_TIMESLICE, P_CAPMAX, P_PERIOD,
 P_READ_PSB, P_VERIFY, P_FMODEL, P_NKINDS, P_ARENA, P_NPAGES, P_MAXPG,
 P_TRACE, P_LOOPS, N_P) = range(17)
# float64 parameter vector
# (F_RESIDENCY: mean time a page stays resident in the residency model,
# reclaim included; F_RECLAIM: the reclaim hazard's mean, 0 for none)
(F_PMIGRATE, F_THINK, F_PMINOR, F_PMAJOR, F_RESIDENCY, F_PMAJ_MISSING,
 F_MINOR, F_MAJOR, F_SIGMA, F_RECLAIM, N_F) = range(11)

World = namedtuple("World", "p f costs kind_cdf kind_guide kind_payload "
                            "kind_median kind_sigma ws_base ws_bytes inj_event "
                            "inj_kind inj_delay arena "
                            "tr_start tr_kind tr_len tr_addr tr_think")
#: slices of [0, 1) in ``kind_guide``: ``kind_guide[j]`` is the number of
#: cumulative weights <= j / KIND_GUIDE, where the kind search of a uniform
#: in slice j starts
KIND_GUIDE = 256
World.__doc__ = """Read-only inputs of a run (see world.prepare). The ``tr_*``
arrays replay a capture (``P_TRACE``, :mod:`fastring.world.replay`): task ``t``'s
syscalls are ``tr_start[t]:tr_start[t + 1]`` (kind, captured length, user
address, think time in ps before each); empty in synthetic runs."""


def read_psb(bytes_per_ns: float) -> int:
    """The reader's speed as picoseconds per byte, times 1000 (an integer:
    the engine's ``P_READ_PSB``)."""
    return int(round(1e6 / bytes_per_ns))


def kinds(cfg: dict) -> list[str]:
    """Syscall kind names, in the order their index is written in records."""
    return list(cfg["workload"]["syscalls"])


def prepare(cfg: dict) -> World:
    """Build the run's read-only arrays from a validated config."""
    run, mach, wl, fl, rd = (cfg[k] for k in ("run", "machine", "workload",
                                              "faults", "reader"))
    seed = run["seed"]
    trace = wl["source"] == "trace"
    n_cpus = mach["n_cpus"]
    n_tasks = n_cpus * mach["tasks_per_cpu"]
    if trace:
        cap = replay.of_config(cfg)
        n_tasks = len(cap.pids)
        if cap.stats["skipped"]:
            line, text = cap.stats["first_skipped"]
            warnings.warn(f"{cap.path}: skipped {cap.stats['skipped']} lines that "
                          f"are not strace output (first: line {line}: {text!r})",
                          RuntimeWarning, stacklevel=2)
    arena_bytes = wl["user_pages"] * PAGE
    ws_bytes = min(wl["working_set_pages"], wl["user_pages"]) * PAGE
    mix = wl["syscalls"]
    names = kinds(cfg)
    w = np.array([mix[k]["weight"] for k in names], dtype=np.float64)
    cdf = np.cumsum(w) / w.sum()
    cdf[-1] = 1.0
    ws_base = np.array(
        [int(u01_py(seed, S_WS, t, 0) * (wl["user_pages"] - ws_bytes // PAGE + 1)) * PAGE
         for t in range(n_tasks)], dtype=np.int64)
    inj = fl["inject"]
    p = np.zeros(N_P, dtype=np.int64)
    p[P_SEED] = seed
    p[P_EVENTS] = run["events"]
    p[P_NCPU] = n_cpus
    p[P_NTASK] = n_tasks
    p[P_TIMESLICE] = mach["timeslice_ns"] * 1000
    p[P_CAPMAX] = wl["capture_max"]
    p[P_PERIOD] = rd["period_ns"] * 1000
    p[P_READ_PSB] = read_psb(rd["bytes_per_ns"])
    p[P_VERIFY] = int(rd["verify"])
    p[P_FMODEL] = FAULT_MODELS.index(fl["model"])
    p[P_NKINDS] = len(names)
    p[P_ARENA] = arena_bytes
    p[P_NPAGES] = wl["user_pages"]
    p[P_MAXPG] = wl["capture_max"] // PAGE + 2
    p[P_TRACE] = int(trace)
    p[P_LOOPS] = wl["trace_loops"]
    f = np.zeros(N_F, dtype=np.float64)
    f[F_PMIGRATE] = mach["p_migrate"]
    f[F_THINK] = wl["think_ns"] * 1000.0
    f[F_PMINOR] = fl["p_minor"]
    f[F_PMAJOR] = fl["p_major"]
    f[F_RESIDENCY] = _lifetime_ps(fl["residency_ns"], fl["reclaim_ns"])
    f[F_RECLAIM] = fl["reclaim_ns"] * 1000.0
    f[F_PMAJ_MISSING] = fl["p_major_given_missing"]
    f[F_MINOR] = fl["minor_ns"] * 1000.0
    f[F_MAJOR] = fl["major_ns"] * 1000.0
    f[F_SIGMA] = fl["sigma"]
    guide = np.minimum(np.searchsorted(cdf, np.arange(KIND_GUIDE) / KIND_GUIDE,
                                       side="right"), len(names) - 1)
    if trace:
        tr = replay.arrays(cfg, ws_base, ws_bytes, arena_bytes)
    else:
        empty = np.zeros(0, np.int64)
        tr = (np.zeros(n_tasks + 1, np.int64), empty, empty, empty, empty)
    return World(
        p, f, to_ps(resolved_costs(cfg)), cdf, guide.astype(np.int64),
        np.array([PAYLOADS[mix[k]["payload"]]
                  if captured(k, mix[k]["payload"], wl["capture"]) else PAYLOAD_NONE
                  for k in names], dtype=np.int64),
        np.array([mix[k]["len_median"] for k in names], dtype=np.float64),
        np.array([mix[k]["len_sigma"] for k in names], dtype=np.float64),
        ws_base, np.int64(ws_bytes),
        np.array([i["event"] for i in inj], dtype=np.int64),
        np.array([FAULT_MINOR if i["kind"] == "minor" else FAULT_MAJOR for i in inj],
                 dtype=np.int64),
        np.array([i["delay_ns"] * 1000 for i in inj], dtype=np.int64),
        make_arena(seed, arena_bytes if B.moves_bytes(cfg) else 0),
        *tr)


def _lifetime_ps(residency_ns: float, reclaim_ns: float) -> float:
    """Mean residency (ps) of a page in the residency model: eviction
    after ``residency_ns`` on average, and reclaim, a second exponential
    hazard of mean ``reclaim_ns`` (0: none), whichever comes first."""
    if reclaim_ns <= 0:
        return residency_ns * 1000.0
    return 1000.0 / (1.0 / residency_ns + 1.0 / reclaim_ns)


def new_ring(cfg: dict) -> B.Ring:
    b = cfg["buffer"]
    return B.new_ring(cfg["machine"]["n_cpus"], b["subbuf_size"], b["n_subbuf"],
                      b["header_size"], b["mode"], b["payload"])
