"""Fixed log-linear histograms: exact counts, percentiles within 1%.

A value ``v >= 0`` (int64, picoseconds in the engine) falls in bin ``v`` when
``v < 2**SUB_BITS``; above, in its power-of-two octave split into
``2**SUB_BITS`` equal sub-bins. The relative width of a sub-bin is at most
``2**-SUB_BITS`` (0.78%), so a percentile read as a bin's midpoint is within
0.4% of the true one, with a fixed, small array and no sorting. This is the
HDR-histogram idea; fixed bins also make chunked runs merge exactly.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .._intrinsics import bit_length

SUB_BITS = 7
SUB = 1 << SUB_BITS
N_BINS = (64 - SUB_BITS + 1) * SUB


@njit(cache=True, _nrt=False, inline="always")
def bin_of(v):
    if v < SUB:
        return v if v > 0 else 0
    e = bit_length(v) - 1
    return (e - SUB_BITS + 1) * SUB + ((v >> (e - SUB_BITS)) & (SUB - 1))


@njit(cache=True, _nrt=False, inline="always")
def record(hist, v):
    hist[bin_of(v)] += 1


def bin_bounds(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive lower and exclusive upper value of each bin index in ``b``."""
    b = np.asarray(b, dtype=np.int64)
    octave = b // SUB
    sub = b % SUB
    e = octave + SUB_BITS - 1
    width = np.where(octave == 0, 1, np.left_shift(1, np.maximum(e - SUB_BITS, 0)))
    lower = np.where(octave == 0, b, np.left_shift(1, np.maximum(e, 0)) + sub * width)
    return lower.astype(np.float64), (lower + width).astype(np.float64)


def quantile(hist: np.ndarray, q: float) -> float:
    """The q-quantile (0..1] as the midpoint of the bin that holds it; NaN if empty.

    For exact small values (bins below ``SUB``) the value itself is returned.
    """
    total = int(hist.sum())
    if total == 0:
        return float("nan")
    rank = max(1, int(np.ceil(q * total)))
    idx = int(np.searchsorted(np.cumsum(hist), rank))
    lo, hi = bin_bounds(np.array([idx]))
    if idx < SUB:
        return float(lo[0])
    return float((lo[0] + hi[0] - 1) / 2.0)


def quantiles(hist: np.ndarray, qs, exact_max: float | None = None) -> list[float]:
    """:func:`quantile` for each q in ``qs``, clamped to the distribution's
    range: a bin midpoint can exceed the largest value in its bin (by up to
    0.4%), so each is at most ``exact_max`` (the exact maximum when the
    caller keeps one, else :func:`max_value`) and at least the lower edge
    of the lowest non-empty bin (no value lies below it)."""
    nz = np.nonzero(hist)[0]
    if nz.size == 0:
        return [float("nan")] * len(qs)
    top = max_value(hist) if exact_max is None else float(exact_max)
    low = float(bin_bounds(nz[:1])[0][0])
    return [min(max(quantile(hist, q), low), top) for q in qs]


def max_value(hist: np.ndarray) -> float:
    """Upper edge of the highest non-empty bin (NaN if empty); the engine also
    keeps exact maxima where the contract asks for ``_max_ns``."""
    nz = np.nonzero(hist)[0]
    if nz.size == 0:
        return float("nan")
    lo, hi = bin_bounds(nz[-1:])
    return float(hi[0] - 1)
