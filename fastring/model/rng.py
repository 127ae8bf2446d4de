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

The exponential and normal draws are Marsaglia and Tsang's ziggurats
(since 0.4.0; before, the inverse transforms ``-log(1 - u)`` and AS241's
normal quantile with the C library's ``log``/``exp``): most draws cost a
table lookup and a multiplication. The rare paths, and the lognormal's
``exp``, use this module's own :func:`log` and :func:`exp`: a table of
2**7 entries and a short polynomial each, plain float64 arithmetic in one
written order (no fused multiply-add, no fast-math), so that the compiled
engine and the Python reference compute the same bits. Every table is
built at import with :mod:`decimal` (correctly rounded), not with the
host's ``libm``: these draws no longer depend on the C library.
:func:`log` is within 1.2 ulp of the exact value, :func:`exp` within 0.6
ulp (``tests/test_rng.py`` checks both against :mod:`decimal`).
``benchmarks/rng_cost.py`` measures each against what it replaced.
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
S_ZIGGURAT = 13      # the ziggurats' rare extra uniforms, keyed by the first draw


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


# -- the exponential and the normal: Marsaglia and Tsang's ziggurat (2000) ------
#
# A density f (exp(-x), or exp(-x*x/2) for |Z|) is covered by L layers of
# equal area v: layer 0 the base (a rectangle of width q = v / f(r) whose part
# beyond r stands for the tail), layers 1 (top) .. L-1 rectangles of right
# edge x[i]. A draw's 53 bits give a layer (the low bits), for the normal a
# sign (bit 7), and a point m * x[i] / 2**45 of its width (the top 45 bits):
# inside the width of the layer below, that point is the answer (97.8% of
# exponential, 98.8% of normal draws: a multiplication, no log or exp). Else
# a wedge test or the tail needs more uniforms, which come from u01 keyed by
# the first draw's bits (stream S_ZIGGURAT): still a pure function of the
# draw's counters. Tables in 40-digit decimal, rounded once.
# ``register_jitable``: plain Python when called from Python (the reference
# engine), compiled into the engine's kernels when called there.

_M45 = Decimal(2 ** 45)


def _ziggurat(layers, r, v, f, f_inv):
    """(W, K, F): layer i's width per unit of m, the m below which a point
    is inside the layer below (for the base: before r), and f(x[i])."""
    x = [_DEC.divide(v, f(r))] + [Decimal(0)] * (layers - 2) + [r]
    for i in range(layers - 2, 0, -1):
        x[i] = f_inv(_DEC.add(_DEC.divide(v, x[i + 1]), f(x[i + 1])))
    ratio = [_DEC.divide(r, x[0]), Decimal(0)] + [_DEC.divide(x[i - 1], x[i])
                                                   for i in range(2, layers)]
    return (np.array([float(_DEC.divide(e, _M45)) for e in x], np.float64),
            np.array([int(_DEC.multiply(q, _M45)) for q in ratio], np.int64),
            np.array([1.0] + [float(f(e)) for e in x[1:]], np.float64))


_EXP_R = Decimal("7.69711747013104972")
_EXP_W, _EXP_K, _EXP_F = _ziggurat(256, _EXP_R, Decimal("0.0039496598225815571993"),
                                   lambda x: _DEC.exp(-x), lambda y: -_DEC.ln(y))
_NOR_R = Decimal("3.442619855899")
_NOR_W, _NOR_K, _NOR_F = _ziggurat(
    128, _NOR_R, Decimal("9.91256303526217e-3"),
    lambda x: _DEC.exp(_DEC.multiply(Decimal("-0.5"), _DEC.multiply(x, x))),
    lambda y: _DEC.sqrt(_DEC.multiply(-2, _DEC.ln(y))))
_EXP_R_F, _NOR_R_F = float(_EXP_R), float(_NOR_R)
_2_53 = 9007199254740992.0
#: the largest exponential draw, in means: the tail's r - log(2**-53)
EXPONENTIAL_MAX = _EXP_R_F - log(2.0 ** -53)
#: the largest |normal| draw: the tail's sqrt(r**2 - 2 log(2**-53))
NORMAL_MAX = math.sqrt(_NOR_R_F * _NOR_R_F - 2.0 * log(2.0 ** -53))


@register_jitable
def _normal_tail(k, n):
    """|Z| beyond r, from round ``n`` on: ``sqrt(r**2 + 2 E)`` (E
    exponential) kept with probability ``r / x`` (Devroye's Rayleigh
    method: bounded by :data:`NORMAL_MAX`, where Marsaglia's reaches 14)."""
    while True:
        x = math.sqrt(_NOR_R_F * _NOR_R_F - 2.0 * log(1.0 - u01(k, S_ZIGGURAT, n, 0)))
        n += 1
        if u01(k, S_ZIGGURAT, n - 1, 1) * x < _NOR_R_F:
            return x


@register_jitable
def _ziggurat_slow(k, i, m, normal):
    """A ziggurat's rare paths (the exponential's, or the normal's for
    |Z|): the tail, a wedge test, a retry with another uniform."""
    W, K, F = (_NOR_W, _NOR_K, _NOR_F) if normal else (_EXP_W, _EXP_K, _EXP_F)
    n = 0
    while True:
        if i == 0:                      # beyond r
            if normal:
                return _normal_tail(k, n)
            return _EXP_R_F - log(1.0 - u01(k, S_ZIGGURAT, n, 0))
        x = m * W[i]
        fx = exp(-0.5 * x * x) if normal else exp(-x)
        if F[i] + u01(k, S_ZIGGURAT, n, 1) * (F[i - 1] - F[i]) < fx:
            return x
        j = int(u01(k, S_ZIGGURAT, n, 2) * _2_53)
        i = j & (K.size - 1)
        m = j >> 8
        if m < K[i]:
            return m * W[i]
        n += 1


@register_jitable
def exponential_py(u, mean):
    """Exponential draw of mean ``mean`` from the uniform ``u`` (the
    ziggurat above; at most :data:`EXPONENTIAL_MAX` means)."""
    k = int(u * _2_53)
    i = k & 255
    m = k >> 8
    if m < _EXP_K[i]:
        return m * _EXP_W[i] * mean
    return _ziggurat_slow(k, i, m, False) * mean


exponential = njit(cache=True)(exponential_py)


@register_jitable
def normal_py(u):
    """Standard normal draw from the uniform ``u`` (the ziggurat above: its
    bit 7 the sign; at most :data:`NORMAL_MAX` in magnitude)."""
    k = int(u * _2_53)
    i = k & 127
    m = k >> 8
    z = m * _NOR_W[i] if m < _NOR_K[i] else _ziggurat_slow(k, i, m, True)
    return -z if k & 128 else z


normal = njit(cache=True)(normal_py)


@register_jitable
def lognormal_py(u, median, sigma):
    """``median * exp(sigma * Z)``, Z the normal draw of the uniform ``u``."""
    return median * exp(sigma * normal_py(u))


lognormal = njit(cache=True)(lognormal_py)


@njit(cache=True, _nrt=False, inline="always")
def fault_service_ps(u, median, sigma):
    """A page fault's service time in ps, from the uniform ``u``: the
    lognormal rounded to an integer (the simulator and ``fastring live``)."""
    return np.int64(lognormal(u, median, sigma) + 0.5)


def arena(seed: int, n_bytes: int) -> np.ndarray:
    """The user memory the payloads are copied from: seeded bytes."""
    return np.random.default_rng([seed, S_ARENA]).integers(
        0, 256, n_bytes, dtype=np.uint8)
