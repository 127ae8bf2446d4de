#!/usr/bin/env python3
"""ns per random draw: fastring.model.rng's formulas against the ones they replaced.

In one process pinned to one core, compiled loops of 2e6 draws each, the two
sides alternating, median of 7 rounds of process CPU time (robust on a
shared machine). "before" is the first named, "after" the second:

* the uniform: two hash rounds against the three of fastring 0.2
  (independent draws: the loop measures throughput);
* ``log`` and ``exp``: the C library's (glibc, called) against
  :func:`fastring.model.rng.log` / :func:`fastring.model.rng.exp` (a table and a short
  polynomial, inlined) -- "latency": each argument depends on the previous
  result; "throughput": independent arguments, as the engine's draws are
  (their uniforms come from counters, not from the previous draw);
* the draws as fastring 0.3 computed them (inverse transforms: libm
  ``log``/``exp``, AS241's normal quantile) against fastring 0.4's (the
  ziggurats, rng's ``exp``): the exponential, the normal and the
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

from fastring.model import rng

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


# -- fastring 0.3's normal quantile: Wichura's AS241, libm log -----------------

@njit
def _horner7(r, c):
    return ((((((c[7] * r + c[6]) * r + c[5]) * r + c[4]) * r + c[3]) * r + c[2]) * r
            + c[1]) * r + c[0]


_CENTRAL = ((3.387132872796366608, 133.14166789178437745, 1971.5909503065514427,
             13731.693765509461125, 45921.953931549871457, 67265.770927008700853,
             33430.575583588128105, 2509.0809287301226727),
            (1.0, 42.313330701600911252, 687.1870074920579083,
             5394.1960214247511077, 21213.794301586595867, 39307.89580009271061,
             28729.085735721942674, 5226.495278852545925))
_MID = ((1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055,
         3.64784832476320460504, 1.27045825245236838258, 0.24178072517745061177,
         0.0227238449892691845833, 7.7454501427834140764e-4),
        (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
         0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4,
         1.05075007164441684324e-9))
_TAIL = ((6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358,
          0.29656057182850489123, 0.026532189526576123093, 0.0012426609473880784386,
          2.71155556874348757815e-5, 2.01033439929228813265e-7),
         (1.0, 0.59983220655588793769, 0.13692988092273580531,
          0.0148753612908506148525, 7.868691311456132591e-4, 1.8463183175100546818e-5,
          1.4215117583164458887e-7, 2.04426310338993978564e-15))


@njit
def _normal_quantile_03(u):
    p = u if u > 0.0 else 5.551115123125783e-17
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _horner7(r, _CENTRAL[0]) / _horner7(r, _CENTRAL[1])
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))
    c = _MID if r <= 5.0 else _TAIL
    r -= 1.6 if r <= 5.0 else 5.0
    x = _horner7(r, c[0]) / _horner7(r, c[1])
    return -x if q < 0.0 else x


_log = njit(rng.log)
_exp = njit(rng.exp)


@njit
def _draw(which, new, u):
    """One draw: 0 log(1 - u), 1 exp(8u - 4), 2 exponential, 3 normal,
    4 lognormal; ``new``: fastring.rng's, else 0.3's."""
    if which == 0:
        return _log(1.0 - u) if new else math.log(1.0 - u)
    if which == 1:
        return _exp(8.0 * u - 4.0) if new else math.exp(8.0 * u - 4.0)
    if which == 2:
        return rng.exponential(u, 1.0) if new else -math.log(1.0 - u)
    if which == 3:
        return rng.normal(u) if new else _normal_quantile_03(u)
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
             "normal (0.3; 0.4)", "lognormal (0.3; 0.4)"]
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
