#!/usr/bin/env python3
"""Why ``fastring._intrinsics.memeq`` never calls ``memcmp`` for 0 bytes.

Times libc ``memcmp`` as the engine calls it (through the intrinsic, from
compiled code) for payload sizes 0, 1, 8, 64 and 512 bytes, beside
``memeq``, which answers 0 bytes itself. On this project's AMD EPYC
machines glibc picks ``__memcmp_evex_movbe``, which took ~220 ns for
``n == 0`` against ~3 ns for 1 to 64 bytes; the reader verifies every
record, and a quarter of the default events have no payload.

Usage: ``python benchmarks/memcmp_zero.py [--calls 1e6]``; ns per call,
median of 3.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from numba import njit

from fastring._intrinsics import _memcmp_eq, memeq


@njit(cache=True)
def _calls(a, b, n, length, guarded):
    """``n`` comparisons of ``length`` bytes: through ``memeq`` (``guarded``)
    or straight to libc."""
    c = 0
    for i in range(n):
        x, y = (i * 48) & 0xFFFFF, (i * 28672) & 0xFFFFFF
        c += memeq(a, x, b, y, length) if guarded else _memcmp_eq(a, x, b, y, length)
    return c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=float, default=1e6)
    n = int(ap.parse_args().calls)
    a = np.zeros(1 << 21, np.uint8)
    b = np.zeros(1 << 25, np.uint8)
    print(f"{'bytes':>6s} {'memcmp ns':>10s} {'memeq ns':>9s}  ({n:,} calls, median of 3)")
    for length in (0, 1, 8, 64, 512):
        row = []
        for guarded in (False, True):
            _calls(a, b, 10, length, guarded)
            ts = []
            for _ in range(3):
                t0 = time.perf_counter()
                _calls(a, b, n, length, guarded)
                ts.append(time.perf_counter() - t0)
            row.append(statistics.median(ts) / n * 1e9)
        print(f"{length:>6d} {row[0]:>10.2f} {row[1]:>9.2f}")


if __name__ == "__main__":
    main()
