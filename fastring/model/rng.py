"""Counter-based random numbers: a pure function of (seed, stream, a, b).

The engine never keeps a generator's state: each draw is a hash of the seed,
a stream tag and two counters (an event index and a draw count, a page
number, ...). So a run is the same whatever the chunk size or the order in
which independent things are computed, and the pure-Python reference engine
reproduces every draw exactly. The hash is two rounds of splitmix64's
finalizer: one keys the (seed, stream) pair, one mixes the counters into it
(there were three; one round per draw is cheaper still, but then a seed and
an event index would enter the same linear combination, and seed ``s + 1``
would replay seed ``s``'s stream shifted by one event). Under
``NUMBA_DISABLE_JIT=1`` the Python-int version is used (NumPy scalar
arithmetic would warn on the intended 64-bit wrap-around).

The exponential and lognormal draws call the C library's ``log`` and
``exp`` (numba and :mod:`math` call the same functions: the same bits,
compiled or not). fdlibm's ``log``/``exp`` written in plain arithmetic, with
no call, measured 1.3-1.9x slower per draw than glibc's
(``benchmarks/rng_cost.py``), so they are not used.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit
from numba.extending import register_jitable

M64 = (1 << 64) - 1
_G = 0x9E3779B97F4A7C15
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB

# stream tags
(S_THINK, S_KIND, S_LEN, S_ADDR, S_PAGE, S_FAULT_NS, S_PREEMPT, S_MIGRATE,
 S_WHERE, S_EVICT, S_WS, S_ARENA) = range(12)
S_DROP = 12          # fastring live: the pages the fault helper drops


def _mix_py(z):
    z = ((z ^ (z >> 30)) * _C1) & M64
    z = ((z ^ (z >> 27)) * _C2) & M64
    return z ^ (z >> 31)


def u01_py(seed, stream, a, b):
    """Uniform float in [0, 1) from 53 bits of the hash."""
    seed, stream, a, b = int(seed), int(stream), int(a), int(b)
    key = _mix_py(((seed + 1) * _G + stream) & M64)
    h = _mix_py((key + a * _G + b * _C1) & M64)
    return (h >> 11) * (1.0 / 9007199254740992.0)


if numba.config.DISABLE_JIT:  # pragma: no cover - the no-JIT CI pass
    u01 = u01_py
else:
    @njit(cache=True, inline="always")
    def _mix(z):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_C1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_C2)
        return z ^ (z >> np.uint64(31))

    @njit(cache=True)
    def u01(seed, stream, a, b):
        key = _mix((np.uint64(seed) + np.uint64(1)) * np.uint64(_G) + np.uint64(stream))
        h = _mix(key + np.uint64(a) * np.uint64(_G) + np.uint64(b) * np.uint64(_C1))
        return np.float64(h >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# ``register_jitable``: plain Python when called from Python (the reference
# engine), compiled into the engine's kernels when called there.

@register_jitable
def exponential_py(u, mean):
    """Exponential draw of mean ``mean`` from the uniform ``u``."""
    return -math.log(1.0 - u) * mean


exponential = njit(cache=True)(exponential_py)


@register_jitable
def normal_quantile_py(u):
    """The standard normal quantile of ``u`` in [0, 1) (``u = 0`` is taken
    as 2**-54): Wichura's AS241 (PPND16, relative error ~1e-16), the
    algorithm of :meth:`statistics.NormalDist.inv_cdf`.

    One uniform per normal draw, and in 85% of draws (``|u - 0.5| <= 0.425``)
    only a ratio of polynomials: in the engine, Box-Muller's ``log``,
    ``sqrt`` and ``cos`` calls cost ~40 ns per payload length. Plain Python
    arithmetic (no fused multiply-add), so that the compiled version below
    and this one agree bit for bit (the reference engine calls this one)."""
    p = u if u > 0.0 else 5.551115123125783e-17
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                    + 67265.770927008700853) * r + 45921.953931549871457) * r
                  + 13731.693765509461125) * r + 1971.5909503065514427) * r
                + 133.14166789178437745) * r + 3.387132872796366608)
        den = (((((((5226.495278852545925 * r + 28729.085735721942674) * r
                    + 39307.89580009271061) * r + 21213.794301586595867) * r
                  + 5394.1960214247511077) * r + 687.1870074920579083) * r
                + 42.313330701600911252) * r + 1.0)
        return q * num / den
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))
    if r <= 5.0:
        r -= 1.6
        num = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
                    + 0.24178072517745061177) * r + 1.27045825245236838258) * r
                  + 3.64784832476320460504) * r + 5.7694972214606914055) * r
                + 4.6303378461565452959) * r + 1.42343711074968357734)
        den = (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                    + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
                  + 0.68976733498510000455) * r + 1.6763848301838038494) * r
                + 2.05319162663775882187) * r + 1.0)
    else:
        r -= 5.0
        num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                    + 0.0012426609473880784386) * r + 0.026532189526576123093) * r
                  + 0.29656057182850489123) * r + 1.7848265399172913358) * r
                + 5.4637849111641143699) * r + 6.6579046435011037772)
        den = (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                    + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r
                  + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
                + 0.59983220655588793769) * r + 1.0)
    x = num / den
    return -x if q < 0.0 else x


normal_quantile = njit(cache=True)(normal_quantile_py)


@register_jitable
def lognormal_py(u, median, sigma):
    """``median * exp(sigma * Z)``, Z the normal quantile of the uniform ``u``."""
    return median * math.exp(sigma * normal_quantile_py(u))


lognormal = njit(cache=True)(lognormal_py)


def arena(seed: int, n_bytes: int) -> np.ndarray:
    """The user memory the payloads are copied from: seeded bytes."""
    return np.random.default_rng([seed, S_ARENA]).integers(
        0, 256, n_bytes, dtype=np.uint8)
