"""The random-number formulas the engine and its reference share."""
import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from fastring.model import rng
from fastring._intrinsics import memeq


EDGES = [0.0, 2.0**-53, 1e-300, 0.025, 0.075, 0.075 + 2**-40, 0.5, 0.5 - 2**-53,
         0.925, 0.975, 1 - 2.0**-53, 3e-7, 1 - 3e-7]


def _uniforms(n):
    return EDGES + [rng.u01_py(7, rng.S_LEN, i, 0) for i in range(n)]


def test_normal_quantile_is_as241_of_the_standard_library():
    nd = statistics.NormalDist()
    worst = 0.0
    for u in _uniforms(20000):
        z = rng.normal_quantile_py(u)
        ref = nd.inv_cdf(u if u > 0 else 2.0**-54)
        worst = max(worst, abs(z - ref) / max(abs(ref), 1e-300))
    assert worst < 2e-15


def test_normal_quantile_compiled_equals_python_bit_for_bit():
    for u in _uniforms(20000):
        assert rng.normal_quantile(u) == rng.normal_quantile_py(u), u


def test_normal_quantile_is_symmetric_and_finite_at_the_ends():
    for u in (0.0, 2.0**-53, 0.3, 0.05):
        z = rng.normal_quantile_py(u)
        assert math.isfinite(z) and z < 0
        if u > 0:
            assert rng.normal_quantile_py(1.0 - u) == pytest.approx(-z, rel=1e-12)


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


def test_exponential_has_its_distribution():
    """Mean, and the Kolmogorov-Smirnov distance to 1 - exp(-x / mean)."""
    x = np.sort([rng.exponential_py(rng.u01_py(9, rng.S_THINK, i, 1), 10.0)
                 for i in range(40000)])
    assert x.mean() == pytest.approx(10.0, rel=0.02)
    cdf = 1 - np.exp(-x / 10.0)
    n = len(x)
    ks = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    assert ks < 1.95 / math.sqrt(n)                                  # p = 0.001
