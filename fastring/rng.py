"""Counter-based random numbers: a pure function of (seed, stream, a, b).

The engine never keeps a generator's state: each draw is the splitmix64 hash
of the seed, a stream tag and two counters (an event index and a step count,
a page number, ...). So a run is the same whatever the chunk size or the
order in which independent things are computed, and the pure-Python
reference engine reproduces every draw exactly. Under ``NUMBA_DISABLE_JIT=1``
the Python-int version is used (NumPy scalar arithmetic would warn on the
intended 64-bit wrap-around).
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit

M64 = (1 << 64) - 1
_G = 0x9E3779B97F4A7C15
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB

# stream tags
(S_THINK, S_KIND, S_LEN, S_ADDR, S_PAGE, S_FAULT_NS, S_PREEMPT, S_MIGRATE,
 S_WHERE, S_EVICT, S_WS, S_ARENA) = range(12)


def _mix_py(z):
    z = ((z ^ (z >> 30)) * _C1) & M64
    z = ((z ^ (z >> 27)) * _C2) & M64
    return z ^ (z >> 31)


def u01_py(seed, stream, a, b):
    """Uniform float in [0, 1) from 53 bits of the hash."""
    seed, stream, a, b = int(seed), int(stream), int(a), int(b)
    h = _mix_py(((seed + 1) * _G + stream) & M64)
    h = _mix_py((h ^ ((a * _G) & M64)) & M64)
    h = _mix_py((h ^ ((b * _C1) & M64) ^ stream) & M64)
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
        s = np.uint64(stream)
        h = _mix((np.uint64(seed) + np.uint64(1)) * np.uint64(_G) + s)
        h = _mix(h ^ (np.uint64(a) * np.uint64(_G)))
        h = _mix(h ^ (np.uint64(b) * np.uint64(_C1)) ^ s)
        return np.float64(h >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def exponential(u, mean):
    return -math.log(1.0 - u) * mean


@njit(cache=True)
def std_normal(u1, u2):
    """Box-Muller: one standard normal from two uniforms."""
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def lognormal(u1, u2, median, sigma):
    return median * math.exp(sigma * std_normal(u1, u2))


def arena(seed: int, n_bytes: int) -> np.ndarray:
    """The user memory the payloads are copied from: seeded bytes."""
    return np.random.default_rng([seed, S_ARENA]).integers(
        0, 256, n_bytes, dtype=np.uint8)
