"""Small helpers of the calibration: buffers, statistics, loop sizing."""
from __future__ import annotations

import threading

import numpy as np


def aligned(nbytes: int, align: int = 4096):
    """A zeroed numpy buffer and the address of its ``align``-aligned start
    (plus that start's offset in the buffer)."""
    raw = np.zeros(nbytes + align, dtype=np.uint8)
    base = raw.ctypes.data
    addr = (base + align - 1) & ~(align - 1)
    return raw, addr, addr - base


def stats(samples) -> dict:
    a = np.asarray(samples, dtype=np.float64)
    return {"median": float(np.median(a)),
            "p25": float(np.percentile(a, 25)),
            "p75": float(np.percentile(a, 75)),
            "min": float(a.min()), "max": float(a.max()),
            "repeats": int(a.size)}


def pick_n(run, target_ns: float, n_min: int = 16,
           n_max: int = 1 << 26) -> int:
    """Loop count so that one run takes about ``target_ns``."""
    n = n_min
    while True:
        dt = run(n)
        if dt >= 200_000 or n >= n_max:   # 0.2 ms pilot is enough to scale
            break
        n *= 8
    per_n = max(dt / n, 1e-3)
    return int(min(max(target_ns / per_n, n_min), n_max))


def series(kernel, args, ops_per_n: int, repeats: int, target_ns: float,
           check=None, warmup: int = 1):
    """Median-ready samples (ns per op) of ``kernel(*args, n)``."""
    def run(n):
        dt, chk = kernel(*args, n)
        if check is not None:
            check(n, chk)
        return dt
    n = pick_n(run, target_ns)
    for _ in range(warmup):
        run(n)
    return [run(n) / (n * ops_per_n) for _ in range(repeats)]


def fit_line(sizes, times):
    """Weighted (1/t) least squares ``t = call + byte * size``."""
    x = np.asarray(sizes, dtype=np.float64)
    y = np.asarray(times, dtype=np.float64)
    w = 1.0 / np.maximum(y, 1e-9)
    byte, call = np.polyfit(x, y, 1, w=w)
    return float(call), float(byte)


def run_threads(targets):
    """Run callables on their own threads at once; return their results."""
    out = [None] * len(targets)
    errs = []

    def wrap(i, fn):
        try:
            out[i] = fn()
        except BaseException as exc:      # re-raised in the caller
            errs.append(exc)
    ths = [threading.Thread(target=wrap, args=(i, fn))
           for i, fn in enumerate(targets)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    if errs:
        raise errs[0]
    return out
