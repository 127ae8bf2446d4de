"""Replaying a recorded capture (``workload.source = "trace"``).

The capture is parsed once (:func:`load_capture`, cached per file version)
into fixed-dtype arrays that the compiled engine reads instead of drawing
kinds, lengths and addresses (:func:`arrays`):

* **Tasks.** Each pid of the capture is one task, in order of first
  appearance; task ``i`` starts on CPU ``i % n_cpus``, like synthetic tasks.
  ``machine.tasks_per_cpu`` is not used.
* **Events.** Each task replays its own pid's syscalls in order,
  ``workload.trace_loops`` times; the run has ``syscalls x loops`` events
  (``run.events`` is set from the capture).
* **Think time.** A task's think time before a syscall is the capture's gap
  between that syscall's entry and the pid's previous one (entry to entry:
  it holds the syscall's own duration and the user time between, including
  strace's own ptrace stops, which slow the traced program down). Before a
  pid's first syscall, in every loop, it waits the pid's start offset in the
  capture, so children start as late as they did.
* **Payloads.** Each syscall's length under the capture policy
  (:mod:`fastring.world.capture`); its address is drawn once per syscall from the
  seed (stream ``S_ADDR``, counters ``(syscall index, 1)``) in the task's
  working set, so every loop reads the same user bytes, as a program
  replayed with the same buffers would.
"""
from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np
from numba import njit

from .capture import kind_payloads, lengths
from ..model.rng import S_ADDR, u01
from .strace import Capture, parse

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 4


def load_capture(path: str, skip_bad: bool = False) -> Capture:
    """The parsed capture at ``path`` (cached while the file is unchanged)."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns, skip_bad)
    cap = _CACHE.get(key)
    if cap is None:
        cap = parse(path, skip_bad)
        _CACHE[key] = cap
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return cap


def of_config(cfg: dict) -> Capture:
    w = cfg["workload"]
    return load_capture(w["trace"], w["trace_skip_bad"])


@njit(cache=True)
def _addresses(seed, task, lens, ws_base, ws_bytes, arena_bytes):
    out = np.empty(lens.size, np.int64)
    for i in range(lens.size):
        length = lens[i]
        span = max(ws_bytes, length)
        base = min(ws_base[task[i]], arena_bytes - span)
        out[i] = base + np.int64(u01(seed, S_ADDR, i, 1) * (span - length + 1))
    return out


def arrays(cfg: dict, ws_base: np.ndarray, ws_bytes: int, arena_bytes: int):
    """(start, kind, length, address, think_ps) for the engine: syscalls
    grouped by task (task ``t``'s are ``start[t]:start[t + 1]``), in order."""
    cap = of_config(cfg)
    w = cfg["workload"]
    order = np.argsort(cap.pid, kind="stable")
    task = cap.pid[order].astype(np.int64)
    t_ns = cap.t_ns[order]
    n_tasks = len(cap.pids)
    start = np.zeros(n_tasks + 1, np.int64)
    np.cumsum(np.bincount(task, minlength=n_tasks), out=start[1:])
    think = np.empty(len(order), np.int64)
    think[1:] = t_ns[1:] - t_ns[:-1]
    think[start[:-1]] = t_ns[start[:-1]]       # first of a pid: its start offset
    think = np.maximum(think, 0) * 1000
    lens = lengths(cap, kind_payloads(cap), w["capture"], w["capture_max"])[order]
    addr = _addresses(np.int64(cfg["run"]["seed"]), task, lens, ws_base,
                      np.int64(ws_bytes), np.int64(arena_bytes))
    return start, cap.kind[order].astype(np.int64), lens, addr, think
