"""The random-number formulas the engine and its reference share."""
import math
import random
import statistics
from decimal import Context, Decimal

import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from fastring.model import rng
from fastring._intrinsics import memeq
from numba import njit


EDGES = [0.0, 2.0**-53, 1e-300, 0.025, 0.075, 0.075 + 2**-40, 0.5, 0.5 - 2**-53,
         0.925, 0.975, 1 - 2.0**-53, 3e-7, 1 - 3e-7]


def _uniforms(n):
    return EDGES + [rng.u01_py(7, rng.S_LEN, i, 0) for i in range(n)]


def _ks(sorted_x, cdf):
    """Kolmogorov-Smirnov distance of a sorted sample to ``cdf`` (its values there)."""
    n = len(sorted_x)
    return max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))


def test_normal_has_its_distribution_tails_included():
    """KS distance to the standard normal (p = 0.001), mean, sd, and the
    share beyond the ziggurat's r (its tail path) and beyond 2 (wedges)."""
    nd = statistics.NormalDist()
    z = np.sort([rng.normal(rng.u01_py(11, rng.S_LEN, i, 0)) for i in range(200000)])
    assert _ks(z, np.array([nd.cdf(v) for v in z])) < 1.95 / math.sqrt(len(z))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    for cut in (2.0, float(rng._NOR_R)):
        p = 2 * (1 - nd.cdf(cut))
        assert abs(np.mean(np.abs(z) > cut) - p) < 5 * math.sqrt(p / len(z)), cut


def test_normal_tail_path_has_the_normal_tail():
    """Draws that land in the base layer beyond r (the tail path): their
    |Z| follow the normal's tail beyond r (KS, p = 0.001)."""
    nd, r = statistics.NormalDist(), float(rng._NOR_R)
    rnd = random.Random(8)
    k0 = int(rng._NOR_K[0])
    z = np.sort([abs(rng.normal((rnd.randrange(k0, 2**45) << 8) * 2.0**-53))
                 for _ in range(20000)])
    assert z[0] > r and z[-1] <= rng.NORMAL_MAX
    tail = 1 - nd.cdf(r)
    cdf = np.array([(nd.cdf(v) - nd.cdf(r)) / tail for v in z])
    assert _ks(z, cdf) < 1.95 / math.sqrt(len(z))


def test_normal_compiled_equals_python_bit_for_bit_and_is_bounded():
    for u in _uniforms(20000):
        z = rng.normal_py(u)
        assert rng.normal(u) == z, u
        assert abs(z) <= rng.NORMAL_MAX


def test_lognormal_has_its_median_and_sigma():
    us = np.array(_uniforms(40000)[len(EDGES):])
    x = np.array([rng.lognormal(u, 100.0, 0.5) for u in us])
    assert np.median(x) == pytest.approx(100.0, rel=0.02)
    assert np.std(np.log(x)) == pytest.approx(0.5, rel=0.02)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=80), st.integers(0, 79))
def test_memeq_matches_bytes_comparison(data, flip):
    """memeq answers 0 bytes itself (libc memcmp is slow there); any length
    compares like Python bytes."""
    a = np.frombuffer(data + b"\0", np.uint8).copy()
    b = a.copy()
    n = len(data)
    assert memeq(a, 0, b, 0, n)
    if n:
        b[flip % n] ^= 1
        assert not memeq(a, 0, b, 0, n)


# -- the counter-based hash and the draws built on it --------------------------

def _chi2_uniform(u, bins=64):
    """Chi-square statistic of ``u`` against uniform [0, 1) in ``bins`` cells
    (64 cells: 63 degrees of freedom, 99.99th percentile ~ 113)."""
    counts = np.bincount((np.asarray(u) * bins).astype(int), minlength=bins)
    expected = len(u) / bins
    return float(((counts - expected) ** 2 / expected).sum())


def test_u01_compiled_equals_python_bit_for_bit():
    for seed, stream, a, b in [(0, 0, 0, 0), (2**40, 11, 2**40 - 1, 2**40),
                               (1, rng.S_EVICT, 123, 1 << 40)]:
        assert rng.u01(seed, stream, a, b) == rng.u01_py(seed, stream, a, b)
    for i in range(2000):
        assert rng.u01(7, i % 12, i * 977, i % 5) == rng.u01_py(7, i % 12, i * 977, i % 5)


@pytest.mark.parametrize("key", [
    # how the engine draws: per event (draw 0, several draws, a page index),
    # per task at start, per page with the (1 << 40) counter
    lambda i: (1, rng.S_KIND, i, 0), lambda i: (1, rng.S_PREEMPT, i // 8, i % 8),
    lambda i: (5, rng.S_PAGE, i // 3, i % 3), lambda i: (2, rng.S_EVICT, i, 1 << 40),
    lambda i: (i, rng.S_THINK, 0, 0),                      # across seeds
])
def test_u01_is_uniform_and_consecutive_draws_uncorrelated(key):
    u = np.array([rng.u01_py(*key(i)) for i in range(50000)])
    assert _chi2_uniform(u) < 113
    assert abs(u.mean() - 0.5) < 0.005
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02        # ~4.5 sigma
    pairs = (u[:-1:2] * 8).astype(int) * 8 + (u[1::2] * 8).astype(int)
    assert _chi2_uniform((pairs + 0.5) / 64) < 113               # 2-D cells


def test_u01_streams_and_seeds_are_independent():
    """Same counters on neighbouring streams and seeds, and seed s + 1 one
    event behind seed s (a hash with the seed and the event in one linear
    term would replay it exactly): uncorrelated."""
    n = 20000
    base = np.array([rng.u01_py(3, rng.S_LEN, i, 0) for i in range(1, n)])
    others = {
        "stream": [rng.u01_py(3, rng.S_ADDR, i, 0) for i in range(1, n)],
        "seed": [rng.u01_py(4, rng.S_LEN, i, 0) for i in range(1, n)],
        "seed+1, event-1": [rng.u01_py(4, rng.S_LEN, i - 1, 0) for i in range(1, n)],
        "draw+1": [rng.u01_py(3, rng.S_LEN, i, 1) for i in range(1, n)],
    }
    for name, u in others.items():
        u = np.asarray(u)
        assert not np.any(u == base), name
        assert abs(np.corrcoef(base, u)[0, 1]) < 0.035, name      # ~5 sigma


def test_exponential_and_lognormal_draws_compiled_equal_python():
    for u in _uniforms(5000):
        assert rng.exponential(u, 1e7) == rng.exponential_py(u, 1e7)
        assert rng.lognormal(u, 300.0, 1.2) == rng.lognormal_py(u, 300.0, 1.2)


def test_exponential_has_its_distribution_tail_included():
    """Mean, the Kolmogorov-Smirnov distance to 1 - exp(-x / mean)
    (p = 0.001), and the share beyond the ziggurat's r (its tail path)."""
    x = np.sort([rng.exponential(rng.u01_py(9, rng.S_THINK, i, 1), 10.0)
                 for i in range(200000)])
    assert x.mean() == pytest.approx(10.0, rel=0.01)
    assert _ks(x, 1 - np.exp(-x / 10.0)) < 1.95 / math.sqrt(len(x))
    p = math.exp(-float(rng._EXP_R))
    assert abs(np.mean(x > 10.0 * float(rng._EXP_R)) - p) < 5 * math.sqrt(p / len(x))
    assert x[-1] <= 10.0 * rng.EXPONENTIAL_MAX


def test_exponential_tail_path_is_r_plus_an_exponential():
    """Draws that land in the base layer beyond r: r + Exp(1) (KS, p = 0.001)."""
    rnd = random.Random(9)
    k0, r = int(rng._EXP_K[0]), float(rng._EXP_R)
    x = np.sort([rng.exponential((rnd.randrange(k0, 2**45) << 8) * 2.0**-53, 1.0)
                 for _ in range(20000)])
    assert x[0] > r and x[-1] <= rng.EXPONENTIAL_MAX
    assert _ks(x, 1 - np.exp(-(x - r))) < 1.95 / math.sqrt(len(x))


def test_ziggurat_rare_paths_agree_compiled_and_python():
    """The draws that leave the fast path (tail, wedge, retry), bit for bit."""
    rare = [u for u in (rng.u01_py(3, 0, i, 0) for i in range(60000))
            if (int(u * 2**53) >> 8) >= rng._EXP_K[int(u * 2**53) & 255]
            or (int(u * 2**53) >> 8) >= rng._NOR_K[int(u * 2**53) & 127]]
    assert len(rare) > 1000
    for u in rare:
        assert rng.exponential(u, 1.0) == rng.exponential_py(u, 1.0)
        assert rng.normal(u) == rng.normal_py(u)


# -- rng.log and rng.exp: the same bits compiled and in Python, and accurate ---

_log_jit, _exp_jit = njit(rng.log), njit(rng.exp)
_DEC = Context(prec=40)


def _ulps(got, exact):
    """|got - exact| in ulps of the float nearest ``exact`` (a Decimal)."""
    return float(abs(_DEC.subtract(Decimal(got), exact)) / Decimal(math.ulp(float(exact))))


def _log_arguments():
    """What the draws take logs of: 1 - u (the ziggurats' tails), tiny
    and huge values, the doubles next to 1, and the edges of the table's
    sub-intervals."""
    rnd = random.Random(5)
    xs = [1.0 - u for u in _uniforms(20000)]
    xs += [1 - k * 2.0**-53 for k in range(1, 300)] + [1 + k * 2.0**-52 for k in range(1, 300)]
    xs += [2.0 ** -rnd.uniform(0, 54) for _ in range(5000)]
    xs += [rng.bits_f64(rng._LOG_OFF + (i << rng._SUB) + d)
           for i in range(-rng._N, 2 * rng._N) for d in (-1, 0, 1)]
    return [x for x in xs if 0 < x]


def test_log_is_within_1_2_ulp_of_the_exact_value_and_1_ulp_of_libm():
    worst = 0.0
    for x in _log_arguments():
        got = rng.log(x)
        assert abs(got - math.log(x)) <= math.ulp(math.log(x)), x
        if x != 1.0:
            worst = max(worst, _ulps(got, _DEC.ln(Decimal(x))))
        else:
            assert got == 0.0
    assert worst < 1.2


def test_exp_is_within_0_6_ulp_of_the_exact_value_and_1_ulp_of_libm():
    rnd = random.Random(6)
    # sigma * z of the lognormal: |z| < NORMAL_MAX, sigma <= 10; -x of the wedges
    ys = [rnd.uniform(-142, 142) for _ in range(10000)] + [rnd.uniform(-1e-3, 1e-3)
                                                          for _ in range(3000)]
    ys += [k * math.log(2) / rng._N for k in range(-300, 300)] + [0.0, -0.0, 5e-324]
    worst = 0.0
    for y in ys:
        got = rng.exp(y)
        assert abs(got - math.exp(y)) <= math.ulp(math.exp(y)), y
        worst = max(worst, _ulps(got, _DEC.exp(Decimal(y))))
    assert worst < 0.6


def test_log_and_exp_outside_the_table_domain_are_libm_s():
    for x in (5e-324, 1e-310, math.inf):
        assert rng.log(x) == math.log(x) == _log_jit(x)
    if not numba.config.DISABLE_JIT:        # Python's math.log raises there
        assert _log_jit(0.0) == -math.inf
        assert math.isnan(_log_jit(math.nan)) and math.isnan(_log_jit(-1.0))
    for y in (600.0, -600.0, 700.0, -745.0, math.inf, -math.inf):
        assert rng.exp(y) == math.exp(y) == _exp_jit(y)


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=2.0**-1022, max_value=1e300))
def test_log_compiled_equals_python_bit_for_bit(x):
    assert _log_jit(x) == rng.log(x)


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=-520.0, max_value=520.0))
def test_exp_compiled_equals_python_bit_for_bit(y):
    assert _exp_jit(y) == rng.exp(y)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**53 - 1), st.floats(1e-3, 1e9), st.floats(0.0, 10.0))
def test_draws_compiled_equal_python_on_every_53_bit_uniform(k, scale, sigma):
    """Any uniform u01 can return (k / 2**53), any mean, median and sigma
    the config allows."""
    u = k * 2.0**-53
    assert rng.exponential(u, scale) == rng.exponential_py(u, scale)
    assert rng.normal(u) == rng.normal_py(u)
    assert rng.lognormal(u, scale, sigma) == rng.lognormal_py(u, scale, sigma)


def test_next_u01_is_the_row_s_next_keyed_draw():
    rows = np.zeros((3, 4), np.int64)
    rows[1, 2] = 77                                   # the event
    got = [rng.next_u01(5, rng.S_PAGE, rows, 1, 2, 3) for _ in range(3)]
    assert got == [rng.u01_py(5, rng.S_PAGE, 77, k) for k in range(3)]
    assert rows[1, 3] == 3 and rows.sum() == 77 + 3
