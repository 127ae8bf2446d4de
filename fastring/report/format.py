"""Numbers as people read them: counts with k/M/G, durations in ns/µs/ms/s,
fractions as percentages that never round a small value to "0%"."""
from __future__ import annotations

import math
import sys

import numpy as np

MICRO = "µ"


def unit_symbol() -> str:
    enc = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        MICRO.encode(enc)
        return MICRO
    except (UnicodeEncodeError, LookupError):
        return "u"


def _sig3(v: float) -> str:
    """3 significant digits without exponent, trailing zeros dropped."""
    a = abs(v)
    s = f"{v:.0f}" if a >= 99.95 else f"{v:.1f}" if a >= 9.995 else f"{v:.2f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def missing(x) -> bool:
    """None, NaN or infinite: shown as '-'."""
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def fmt_count(x) -> str:
    """1234 -> '1.23k', 3.4e6 -> '3.4M'; integers below 1000 as they are."""
    if missing(x):
        return "-"
    a = abs(x)
    if a < 1000:
        return str(int(x)) if float(x).is_integer() else _sig3(float(x))
    for div, suf in ((1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T")):
        if a < div * 999.5:
            return _sig3(x / div) + suf
    return _sig3(x / 1e15) + "P"


def fmt_ns(x, micro: str | None = None) -> str:
    """A duration in ns: '850ns', '1.72µs', '12.3ms', '2.5s'."""
    if missing(x):
        return "-"
    mu = micro if micro is not None else MICRO
    a = abs(x)
    if a == 0:
        return "0"
    for div, suf in ((1, "ns"), (1e3, mu + "s"), (1e6, "ms")):
        if a < div * 999.5:
            return _sig3(x / div) + suf
    return _sig3(x / 1e9) + "s"


def fmt_ratio(x) -> str:
    return "-" if missing(x) else f"{x:.2f}x"


def fmt_fraction(x) -> str:
    """A fraction as a percentage, 3 significant digits however small:
    1e-5 -> '0.001%' (never '0%' for a value that is not zero)."""
    if missing(x):
        return "-"
    if x == 0:
        return "0"
    p = 100 * x
    if abs(p) >= 9.995:
        return _sig3(p) + "%"
    return np.format_float_positional(p, precision=3, fractional=False,
                                      trim="-") + "%"
