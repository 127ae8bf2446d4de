"""The random-number formulas the engine and its reference share."""
import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from fastring import rng
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
