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

The exponential and lognormal draws use this module's own :func:`log` and
:func:`exp` (since 0.4.0; the C library's before): a table of 2**7 entries
and a short polynomial each, plain float64 arithmetic in one written order
(no fused multiply-add, no fast-math), so the compiled engine and the
Python reference compute the same bits, and the tables are built at import
with :mod:`decimal` (correctly rounded), not with the host's ``libm``: the
draws no longer depend on the C library at all. Both are inlined where the
engine draws, with no call; ``benchmarks/rng_cost.py`` measures them
against glibc's. Their error, over the domains the draws use, is under 1.1
ulp for :func:`log` and 0.6 ulp for :func:`exp` against the exact value
(``tests/test_rng.py`` checks it against :mod:`decimal`).
"""
from __future__ import annotations

import math
import struct
from decimal import Context, Decimal

import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload, register_jitable

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


@njit(cache=True, _nrt=False, inline="always")
def next_u01(seed, stream, rows, row, event_col, draw_col):
    """The next uniform of the event a row of ``rows`` (a task, a live
    probe's slot) is working on: keyed by ``rows[row, event_col]`` and the
    row's draw count ``rows[row, draw_col]``, which it increments."""
    k = rows[row, draw_col]
    rows[row, draw_col] = k + 1
    return u01(seed, stream, rows[row, event_col], k)


# -- float64 bits, the same in Python and compiled code ------------------------

def f64_bits(x):
    """The IEEE-754 bits of the float ``x``, as a signed 64-bit int."""
    return struct.unpack("<q", struct.pack("<d", x))[0]


def bits_f64(i):
    """The float whose IEEE-754 bits are the signed 64-bit int ``i``."""
    return struct.unpack("<d", struct.pack("<q", i))[0]


@intrinsic
def _bitcast_f2i(typingctx, x):
    if x != types.float64:
        return None
    return types.int64(types.float64), lambda ctx, b, sig, args: b.bitcast(
        args[0], ir.IntType(64))


@intrinsic
def _bitcast_i2f(typingctx, i):
    if not isinstance(i, types.Integer):
        return None

    def codegen(ctx, b, sig, args):
        return b.bitcast(ctx.cast(b, args[0], sig.args[0], types.int64), ir.DoubleType())
    return types.float64(i), codegen


@overload(f64_bits, inline="always")
def _f64_bits_compiled(x):
    return lambda x: _bitcast_f2i(x)


@overload(bits_f64, inline="always")
def _bits_f64_compiled(i):
    return lambda i: _bitcast_i2f(i)


# -- log and exp: a table and a short polynomial ------------------------------
#
# Both tables are built here, once, with :mod:`decimal` at 40 digits and then
# rounded to float64: the same values on every machine, whatever its libm.

_DEC = Context(prec=40)          # 40 digits, then rounded once to float64
_LN2 = _DEC.ln(2)
_TABLE_BITS = 7
_N = 1 << _TABLE_BITS
_SUB = 52 - _TABLE_BITS          # a table index is the top 7 bits of the mantissa
_ONE = 0x3FF0000000000000        # the bits of 1.0

# log(x) = e * ln2 + log(c) + log1p((z - c) / c), with x = z * 2**e and z in
# [0.709, 1.418): sub-interval i of that octave (2**45 consecutive doubles)
# has the centre c (1.0 exactly for the one 1.0 sits in the middle of, so
# that log is accurate near 1), 1 / c and log(c) as a float plus the rest.
# Then |r| = |z - c| / c < 2**-8, and log1p's series to r**7 is off by less
# than r**8 / 8 < 2**-67. z - c is exact (Sterbenz), r off by ~1 ulp of r.
_LOG_OFF = _ONE - (1 << (_SUB - 1)) - 74 * (1 << _SUB)


def _log_row(i):
    a = bits_f64(_LOG_OFF + (i << _SUB))
    b = bits_f64(_LOG_OFF + ((i + 1) << _SUB))
    c = 1.0 if a <= 1.0 < b else (a + b) / 2.0         # exact: few mantissa bits
    ln_c = _DEC.ln(Decimal(c))
    return c, 1.0 / c, float(ln_c), float(_DEC.subtract(ln_c, Decimal(float(ln_c))))


#: per sub-interval: c, 1 / c, log(c), log(c) - float(log(c))
_LOG_TABLE = np.array([_log_row(i) for i in range(_N)], np.float64)
_LN2_HI = float.fromhex("0x1.62e42fefa3800p-1")         # 42 bits: e * _LN2_HI exact
_LN2_LO = float(_DEC.subtract(_LN2, Decimal(_LN2_HI)))


@register_jitable
def log(x):
    """Natural log of ``x``; error < 1.1 ulp for positive normal ``x``
    (others go to :func:`math.log`). Table-driven, see the comment above."""
    ix = f64_bits(x)
    if ix < 0x0010000000000000 or ix >= 0x7FF0000000000000:  # <= 0, tiny, inf, nan
        return math.log(x)
    tmp = ix - _LOG_OFF
    i = (tmp >> _SUB) & (_N - 1)
    e = tmp >> 52
    z = bits_f64(ix - (e << 52))
    r = (z - _LOG_TABLE[i, 0]) * _LOG_TABLE[i, 1]
    k = float(e)
    w = k * _LN2_HI + _LOG_TABLE[i, 2]
    hi = w + r
    lo = w - hi + r + (k * _LN2_LO + _LOG_TABLE[i, 3])
    r2 = r * r
    p = (r2 * (-0.5 + r * (1.0 / 3.0))
         + r2 * r2 * (-0.25 + r * 0.2 + r2 * (-1.0 / 6.0 + r * (1.0 / 7.0))))
    return lo + p + hi


# exp(y) = 2**(n / N) * exp(r), n = round(y * N / ln2), r = y - n * ln2 / N,
# |r| <= ln2 / 256: 2**(n / N) = 2**(n >> 7) * 2**(j / N) (j = n & 127)
# from the table (its float bits, less j << 45 so that adding n << 45 sets
# the power of two, and the relative rest), exp(r) - 1 from its series to
# r**5 (off by less than r**6 / 720 < 2**-60).

def _exp_row(j):
    t = _DEC.power(2, _DEC.divide(j, _N))
    f = float(t)
    return f64_bits(f) - (j << _SUB), float(_DEC.divide(_DEC.subtract(t, Decimal(f)), Decimal(f)))


_EXP_ROWS = [_exp_row(j) for j in range(_N)]
_EXP_BITS = np.array([b for b, _ in _EXP_ROWS], np.int64)
_EXP_REST = np.array([t for _, t in _EXP_ROWS], np.float64)
_N_LN2 = float(_DEC.divide(_N, _LN2))
_LN2_N = _DEC.divide(_LN2, _N)
_LN2_N_HI = math.ldexp(round(math.ldexp(float(_LN2_N), 40)), -40)   # n * it exact
_LN2_N_LO = float(_DEC.subtract(_LN2_N, Decimal(_LN2_N_HI)))
_ROUND = 6755399441055744.0        # 1.5 * 2**52: adding it rounds to an integer
_ROUND_BITS = 0x4338000000000000   # its bits


@register_jitable
def exp(y):
    """``e ** y``; error < 0.6 ulp for ``|y| < 512`` (others go to
    :func:`math.exp`). Table-driven, see the comment above."""
    if not abs(y) < 512.0:
        return math.exp(y)
    big = y * _N_LN2 + _ROUND
    n = f64_bits(big) - _ROUND_BITS
    k = big - _ROUND
    r = y - k * _LN2_N_HI - k * _LN2_N_LO
    j = n & (_N - 1)
    r2 = r * r
    rest = (_EXP_REST[j] + r + r2 * (0.5 + r * (1.0 / 6.0))
            + r2 * r2 * (1.0 / 24.0 + r * (1.0 / 120.0)))
    scale = bits_f64(_EXP_BITS[j] + (n << _SUB))
    return scale + scale * rest


# -- the draws ------------------------------------------------------------------
# ``register_jitable``: plain Python when called from Python (the reference
# engine), compiled into the engine's kernels when called there.

@register_jitable
def exponential_py(u, mean):
    """Exponential draw of mean ``mean`` from the uniform ``u``."""
    return -log(1.0 - u) * mean


exponential = njit(cache=True)(exponential_py)


@register_jitable
def _poly7(r, c):
    """``c[0] + c[1] r + ... + c[7] r**7`` in Estrin's order: three
    multiplications deep instead of Horner's seven."""
    r2 = r * r
    return ((c[0] + c[1] * r) + r2 * (c[2] + c[3] * r)
            + r2 * r2 * ((c[4] + c[5] * r) + r2 * (c[6] + c[7] * r)))


# Wichura's AS241 (PPND16) coefficients, lowest power first
_CENTRAL_NUM = (3.387132872796366608, 133.14166789178437745, 1971.5909503065514427,
                13731.693765509461125, 45921.953931549871457, 67265.770927008700853,
                33430.575583588128105, 2509.0809287301226727)
_CENTRAL_DEN = (1.0, 42.313330701600911252, 687.1870074920579083,
                5394.1960214247511077, 21213.794301586595867, 39307.89580009271061,
                28729.085735721942674, 5226.495278852545925)
_MID_NUM = (1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055,
            3.64784832476320460504, 1.27045825245236838258, 0.24178072517745061177,
            0.0227238449892691845833, 7.7454501427834140764e-4)
_MID_DEN = (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
            0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4,
            1.05075007164441684324e-9)
_TAIL_NUM = (6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358,
             0.29656057182850489123, 0.026532189526576123093, 0.0012426609473880784386,
             2.71155556874348757815e-5, 2.01033439929228813265e-7)
_TAIL_DEN = (1.0, 0.59983220655588793769, 0.13692988092273580531,
             0.0148753612908506148525, 7.868691311456132591e-4, 1.8463183175100546818e-5,
             1.4215117583164458887e-7, 2.04426310338993978564e-15)


@register_jitable
def normal_quantile_py(u):
    """The standard normal quantile of ``u`` in [0, 1) (``u = 0`` is taken
    as 2**-54): Wichura's AS241 (PPND16, relative error ~1e-16), the
    algorithm of :meth:`statistics.NormalDist.inv_cdf`, its polynomials
    evaluated in Estrin's order and its tails' log by :func:`log`.

    One uniform per normal draw, and in 85% of draws (``|u - 0.5| <= 0.425``)
    only a ratio of polynomials: in the engine, Box-Muller's ``log``,
    ``sqrt`` and ``cos`` calls cost ~40 ns per payload length. Plain Python
    arithmetic (no fused multiply-add), so that the compiled version below
    and this one agree bit for bit (the reference engine calls this one)."""
    p = u if u > 0.0 else 5.551115123125783e-17
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly7(r, _CENTRAL_NUM) / _poly7(r, _CENTRAL_DEN)
    r = math.sqrt(-log(p if q < 0.0 else 1.0 - p))
    if r <= 5.0:
        x = _poly7(r - 1.6, _MID_NUM) / _poly7(r - 1.6, _MID_DEN)
    else:
        x = _poly7(r - 5.0, _TAIL_NUM) / _poly7(r - 5.0, _TAIL_DEN)
    return -x if q < 0.0 else x


normal_quantile = njit(cache=True)(normal_quantile_py)


@register_jitable
def lognormal_py(u, median, sigma):
    """``median * exp(sigma * Z)``, Z the normal quantile of the uniform ``u``."""
    return median * exp(sigma * normal_quantile_py(u))


lognormal = njit(cache=True)(lognormal_py)


def arena(seed: int, n_bytes: int) -> np.ndarray:
    """The user memory the payloads are copied from: seeded bytes."""
    return np.random.default_rng([seed, S_ARENA]).integers(
        0, 256, n_bytes, dtype=np.uint8)
