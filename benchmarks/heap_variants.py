#!/usr/bin/env python3
"""The engine's queue against the alternatives it was chosen over.

In one process pinned to one core, each queue holds ``n`` pending entries
(n = 20, 320, 1280, 5120: 4 tasks + 1 reader per CPU at 4, 64, 256, 1024
CPUs) and does 2e6 pop + push pairs, each entry pushed back at its time plus
an exponential delay (mean 10 ns, so ties happen): the engine's pattern.
Median ns per pop + push (process CPU time) over 4 timed rounds (after a
compiling one),
variants alternating. All three pop in the same order (checked).

* ``binary``: the binary heap of (time, code) pairs the engine had before;
* ``4-ary``: the engine's (``fastring.engine.heap_push`` / ``heap_pop``);
* ``packed``: a 4-ary heap of one int64 key ``time << 16 | code``, not used:
  it would take the code's bits from simulated time.

Usage: ``PYTHONPATH=$PWD python benchmarks/heap_variants.py``
"""
from __future__ import annotations

import statistics
import time
from collections import namedtuple

import numpy as np
from numba import njit

from fastring import engine as E

try:
    from benchmarks._common import pin_to_one_core
except ImportError:  # run as a script
    from _common import pin_to_one_core

Q = namedtuple("Q", "g heap_t heap_v")
ITERS = 2_000_000


@njit(inline="always")
def _less(ta, va, tb, vb):
    return ta < tb or (ta == tb and va < vb)


@njit(inline="always")
def push_binary(s, t, v):
    ht, hv = s.heap_t, s.heap_v
    i = s.g[E.GLOBAL_HEAP_LEN]
    s.g[E.GLOBAL_HEAP_LEN] = i + 1
    while i > 0:
        parent = (i - 1) >> 1
        if not _less(t, v, ht[parent], hv[parent]):
            break
        ht[i], hv[i] = ht[parent], hv[parent]
        i = parent
    ht[i], hv[i] = t, v


@njit(inline="always")
def pop_binary(s):
    ht, hv = s.heap_t, s.heap_v
    n = s.g[E.GLOBAL_HEAP_LEN] - 1
    s.g[E.GLOBAL_HEAP_LEN] = n
    t0, v0, t, v = ht[0], hv[0], ht[n], hv[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _less(ht[c + 1], hv[c + 1], ht[c], hv[c]):
            c += 1
        if not _less(ht[c], hv[c], t, v):
            break
        ht[i], hv[i] = ht[c], hv[c]
        i = c
    ht[i], hv[i] = t, v
    return t0, v0


@njit(inline="always")
def push_packed(h, g, key):
    i = g[E.GLOBAL_HEAP_LEN]
    g[E.GLOBAL_HEAP_LEN] = i + 1
    while i > 0:
        parent = (i - 1) >> 2
        if key >= h[parent]:
            break
        h[i] = h[parent]
        i = parent
    h[i] = key


@njit(inline="always")
def pop_packed(h, g):
    n = g[E.GLOBAL_HEAP_LEN] - 1
    g[E.GLOBAL_HEAP_LEN] = n
    k0, key = h[0], h[n]
    i = 0
    while True:
        c = 4 * i + 1
        if c >= n:
            break
        ck = h[c]
        for j in range(c + 1, min(c + 4, n)):
            smaller = h[j] < ck
            c = j if smaller else c
            ck = h[j] if smaller else ck
        if ck >= key:
            break
        h[i] = ck
        i = c
    h[i] = key
    return k0


@njit
def run_binary(s, n, deltas):
    for i in range(n):
        push_binary(s, deltas[i], i)
    acc = 0
    for k in range(ITERS):
        t, v = pop_binary(s)
        acc = acc * 31 + v
        push_binary(s, t + deltas[k & 65535], v)
    return acc


@njit
def run_4ary(s, n, deltas):
    for i in range(n):
        E.heap_push(s, deltas[i], i)
    acc = 0
    for k in range(ITERS):
        t, v = E.heap_pop(s)
        acc = acc * 31 + v
        E.heap_push(s, t + deltas[k & 65535], v)
    return acc


@njit
def run_packed(s, n, deltas):
    h, g = s.heap_t, s.g
    for i in range(n):
        push_packed(h, g, (deltas[i] << 16) | i)
    acc = 0
    for k in range(ITERS):
        key = pop_packed(h, g)
        t, v = key >> 16, key & 0xFFFF
        acc = acc * 31 + v
        push_packed(h, g, ((t + deltas[k & 65535]) << 16) | v)
    return acc


def main() -> int:
    cpu = pin_to_one_core()
    deltas = np.random.default_rng(1).exponential(10000, 65536).astype(np.int64)
    variants = {"binary": run_binary, "4-ary": run_4ary, "packed": run_packed}
    print(f"ns per pop + push (process CPU time, median of 4 rounds, CPU {cpu})")
    print(f"{'entries':>8} " + " ".join(f"{k:>8}" for k in variants) + "  4-ary/binary")
    for n in (20, 320, 1280, 5120):
        res = {k: [] for k in variants}
        for r in range(5):
            seen = set()
            for name, f in variants.items():
                s = Q(np.zeros(E.N_GLOBAL, np.int64), np.zeros(n + 1, np.int64),
                      np.zeros(n + 1, np.int64))
                t0 = time.process_time()
                seen.add(f(s, n, deltas))
                if r:
                    res[name].append((time.process_time() - t0) / ITERS * 1e9)
            assert len(seen) == 1, "the queues popped in different orders"
        med = {k: statistics.median(v) for k, v in res.items()}
        print(f"{n:8d} " + " ".join(f"{v:8.1f}" for v in med.values())
              + f"  {med['4-ary'] / med['binary']:12.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
