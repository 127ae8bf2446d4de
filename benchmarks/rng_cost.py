#!/usr/bin/env python3
"""ns per random draw: fastring.model.rng's against the formulas it was chosen over.

In one process pinned to one core, compiled loops of 2e6 draws each,
alternating, median of 5 rounds of process CPU time (robust on a shared
machine): the uniform (two hash rounds against the three of fastring 0.2:
independent draws, the loop measures throughput); the exponential and the lognormal with the
C library's ``log``/``exp`` (fastring's) against fdlibm's written in plain
arithmetic, inlined, no call (tried and not used: slower): each draw indexed
by the previous one's result, the loop measures latency. "before" is the
first named, "after" the second.

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


@njit
def _u01_three_rounds(seed, stream, a, b):
    s = np.uint64(stream)
    h = rng._mix((np.uint64(seed) + np.uint64(1)) * np.uint64(rng._G) + s)
    h = rng._mix(h ^ (np.uint64(a) * np.uint64(rng._G)))
    h = rng._mix(h ^ (np.uint64(b) * np.uint64(rng._C1)) ^ s)
    return np.float64(h >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# -- fdlibm's e_log.c and e_exp.c in plain arithmetic (tried, not used) ------

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SQRT2 = 1.4142135623730951
_SQRT_HALF = 0.7071067811865476
#: 2.0 ** k for k in [-1022, 1023], exact: exp's final scaling by 2 ** k
_POW2 = np.array([2.0 ** k for k in range(-1022, 1024)])


@njit
def fdlibm_log(x):
    """Natural log of a positive finite ``x`` (fdlibm ``__ieee754_log``,
    < 1 ulp). ``x`` is scaled into [sqrt(1/2), sqrt(2)) by exact halvings or
    doublings: about one step for ``1 - u``, u uniform."""
    if not 0.0 < x < math.inf:          # 0, negative, inf, nan: no loop
        return -math.inf if x == 0.0 else (x if x == math.inf else math.nan)
    k = 0
    while x < _SQRT_HALF:
        x *= 2.0
        k -= 1
    while x >= _SQRT2:
        x *= 0.5
        k += 1
    f = x - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01
                                              + w * 1.531383769920937332e-01))
    t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
                                              + w * (1.818357216161805012e-01
                                                     + w * 1.479819860511658591e-01)))
    r = t2 + t1
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


@njit
def fdlibm_exp(y):
    """``e ** y`` (fdlibm ``__ieee754_exp``, < 1 ulp); 0.0 or inf past the
    range of doubles, like :func:`math.exp` short of its OverflowError."""
    if y > 709.782712893384:
        return math.inf
    if y < -708.3964185322641:          # results below 2 ** -1022: flushed
        return 0.0
    k = int(y * 1.44269504088896338700 + (0.5 if y >= 0.0 else -0.5))
    hi = y - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (1.66666666666666019037e-01 + t * (-2.77777777770155933842e-03 + t * (
        6.61375632143793436117e-05 + t * (-1.65339022054652515390e-06
                                          + t * 4.13813679705723846039e-08))))
    e = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    if k == 1024:                       # e < 2: scale in two exact steps
        return e * 2.0 * _POW2[1023 + 1022]
    return e * _POW2[k + 1022]



@njit
def _fdlibm_exponential(u, mean):
    return -fdlibm_log(1.0 - u) * mean


@njit
def _fdlibm_lognormal(u, median, sigma):
    return median * fdlibm_exp(sigma * rng.normal_quantile_py(u))


@njit
def loop_u01(seed, three):
    acc = 0.0
    for i in range(N):                 # independent draws: throughput
        acc += _u01_three_rounds(seed, 3, i, i & 7) if three else rng.u01(seed, 3, i, i & 7)
    return acc


@njit
def loop_exponential(us, libm):
    acc = 0.0
    for i in range(N):
        u = us[(i + np.int64(acc)) & 65535]
        acc = rng.exponential(u, 1.0) if libm else _fdlibm_exponential(u, 1.0)
    return acc


@njit
def loop_lognormal(us, libm):
    acc = 0.0
    for i in range(N):
        u = us[(i + np.int64(acc > 1.0)) & 65535]
        acc = rng.lognormal(u, 1.0, 0.8) if libm else _fdlibm_lognormal(u, 1.0, 0.8)
    return acc


def main() -> int:
    cpu = pin_to_one_core()
    us = np.array([rng.u01_py(1, 2, i, 0) for i in range(65536)])
    cases = {
        "uniform (hash rounds 3 -> 2)": lambda old: loop_u01(7, old),
        "exponential (libm log; fdlibm)": lambda old: loop_exponential(us, old),
        "lognormal (libm exp; fdlibm)": lambda old: loop_lognormal(us, old),
    }
    print(f"ns per draw, median of 5 rounds (process CPU time), CPU {cpu}")
    print(f"{'draw':36s} {'before':>7s} {'after':>7s} {'ratio':>6s}")
    for name, f in cases.items():
        f(True), f(False)                               # compile
        res = {True: [], False: []}
        for _ in range(5):
            for old in (True, False):
                t0 = time.process_time()
                f(old)
                res[old].append((time.process_time() - t0) / N * 1e9)
        b, a = statistics.median(res[True]), statistics.median(res[False])
        print(f"{name:36s} {b:7.2f} {a:7.2f} {a / b:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
