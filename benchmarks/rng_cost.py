#!/usr/bin/env python3
"""ns per random draw: fastring.rng's formulas against the ones they replaced.

In one process pinned to one core, compiled loops of 2e6 draws each, the two
sides alternating, median of 7 rounds of process CPU time (robust on a
shared machine). "before" is the first named, "after" the second:

* the uniform: two hash rounds against the three of fastring 0.2
  (independent draws: the loop measures throughput);
* ``log`` and ``exp``: the C library's (glibc, called) against
  :func:`fastring.rng.log` / :func:`fastring.rng.exp` (a table and a short
  polynomial, inlined) -- "latency": each argument depends on the previous
  result; "throughput": independent arguments, as the engine's draws are
  (their uniforms come from counters, not from the previous draw);
* the draws as fastring 0.3 computed them (libm ``log``/``exp``, AS241's
  polynomials in Horner's order) against fastring 0.4's (rng's ``log`` /
  ``exp``, Estrin's order): the exponential, the normal quantile and the
  lognormal, in both modes.

fdlibm's ``log``/``exp`` in plain arithmetic were measured 1.3-1.9x slower
than glibc's by fastring 0.3's version of this script (its git history):
a loop of exact halvings, a division and long Horner chains.

Usage: ``PYTHONPATH=$PWD python benchmarks/rng_cost.py``
"""
from __future__ import annotations

import math
import statistics
import time

import numpy as np
from numba import njit

from fastring import rng

try:
    from benchmarks._common import pin_to_one_core
except ImportError:  # run as a script
    from _common import pin_to_one_core

N = 2_000_000
ROUNDS = 7


@njit
def _u01_three_rounds(seed, stream, a, b):
    s = np.uint64(stream)
    h = rng._mix((np.uint64(seed) + np.uint64(1)) * np.uint64(rng._G) + s)
    h = rng._mix(h ^ (np.uint64(a) * np.uint64(rng._G)))
    h = rng._mix(h ^ (np.uint64(b) * np.uint64(rng._C1)) ^ s)
    return np.float64(h >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# -- fastring 0.3's draws: libm log/exp, AS241 in Horner's order ---------------

@njit
def _horner7(r, c):
    return ((((((c[7] * r + c[6]) * r + c[5]) * r + c[4]) * r + c[3]) * r + c[2]) * r
            + c[1]) * r + c[0]


@njit
def _normal_quantile_03(u):
    p = u if u > 0.0 else 5.551115123125783e-17
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _horner7(r, rng._CENTRAL_NUM) / _horner7(r, rng._CENTRAL_DEN)
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))
    if r <= 5.0:
        x = _horner7(r - 1.6, rng._MID_NUM) / _horner7(r - 1.6, rng._MID_DEN)
    else:
        x = _horner7(r - 5.0, rng._TAIL_NUM) / _horner7(r - 5.0, rng._TAIL_DEN)
    return -x if q < 0.0 else x


_log = njit(rng.log)
_exp = njit(rng.exp)


@njit
def _draw(which, new, u):
    """One draw: 0 log(1 - u), 1 exp(8u - 4), 2 exponential, 3 normal
    quantile, 4 lognormal; ``new``: fastring.rng's, else 0.3's."""
    if which == 0:
        return _log(1.0 - u) if new else math.log(1.0 - u)
    if which == 1:
        return _exp(8.0 * u - 4.0) if new else math.exp(8.0 * u - 4.0)
    if which == 2:
        return rng.exponential(u, 1.0) if new else -math.log(1.0 - u)
    if which == 3:
        return rng.normal_quantile(u) if new else _normal_quantile_03(u)
    return rng.lognormal(u, 1.0, 0.8) if new else math.exp(0.8 * _normal_quantile_03(u))


@njit
def loop_latency(us, which, new):
    acc = 0.0
    for i in range(N):                  # the next argument waits for this result
        acc = _draw(which, new, us[(i + np.int64(acc > 1.0)) & 65535])
    return acc


@njit
def loop_throughput(us, which, new):
    acc = 0.0
    for i in range(N):                  # independent draws
        acc += _draw(which, new, us[i & 65535])
    return acc


@njit
def loop_u01(seed, three):
    acc = 0.0
    for i in range(N):
        acc += _u01_three_rounds(seed, 3, i, i & 7) if three else rng.u01(seed, 3, i, i & 7)
    return acc


def main() -> int:
    cpu = pin_to_one_core()
    us = np.array([rng.u01_py(1, 2, i, 0) for i in range(65536)])
    cases = {"uniform (hash rounds 3 -> 2)": lambda old: loop_u01(7, old)}
    names = ["log (glibc; rng.log)", "exp (glibc; rng.exp)", "exponential (0.3; 0.4)",
             "normal quantile (0.3; 0.4)", "lognormal (0.3; 0.4)"]
    for which, name in enumerate(names):
        for mode, loop in (("latency", loop_latency), ("throughput", loop_throughput)):
            cases[f"{name} {mode}"] = (
                lambda old, w=which, f=loop: f(us, w, not old))
    print(f"ns per draw, median of {ROUNDS} rounds (process CPU time), CPU {cpu}")
    print(f"{'draw':44s} {'before':>7s} {'after':>7s} {'ratio':>6s}")
    for name, f in cases.items():
        f(True), f(False)                               # compile
        res = {True: [], False: []}
        for _ in range(ROUNDS):
            for old in (True, False):
                t0 = time.process_time()
                f(old)
                res[old].append((time.process_time() - t0) / N * 1e9)
        b, a = statistics.median(res[True]), statistics.median(res[False])
        print(f"{name:44s} {b:7.2f} {a:7.2f} {a / b:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
