"""What ``fastring run`` shows while it works: a note before the kernels
compile (the one long silence of a first run), and a one-line progress bar.

The kernels are compiled, or loaded from the cache, by a tiny warm-up run
before the bar starts (:func:`warm_up`), so the bar's clock measures
simulation only and its ETA is sane from the first update. The bar never
cuts a number: on a narrow terminal it drops whole parts of the line.
"""
from __future__ import annotations

import copy
import io
import os
import sys
import time

from .. import kernel_cache


def tiny_config(cfg: dict) -> dict:
    """``cfg`` cut to a few events of its first strategy."""
    tiny = copy.deepcopy(cfg)
    tiny["run"].update(events=min(64, cfg["run"]["events"]),
                       strategies=cfg["run"]["strategies"][:1])
    return tiny


def warm_up(cfg: dict, stream=None, force: bool = False):
    """Compile (or load) the kernels with a tiny run of ``cfg``
    (:func:`tiny_config`); returns its results. When the cache is cold, say
    so first, and remember how long compiling took."""
    stream = stream if stream is not None else sys.stderr
    cold = kernel_cache.is_cold()
    if cold:
        stream.write(f"compiling kernels (first run only, about "
                     f"{kernel_cache.expected_compile_s()} s)\n")
        stream.flush()
    from ..api import run
    t0 = time.monotonic()
    res = run(tiny_config(cfg), force=force)
    if cold:
        kernel_cache.record_compile_s(time.monotonic() - t0)
    return res


def fmt_duration(s: float) -> str:
    """'7s', '3m05s', '1h02m'; '?' when unknown."""
    if s != s or s < 0:
        return "?"
    s = round(s)
    if s < 100:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class ProgressBar:
    """A one-line progress bar on stderr, drawn only on a terminal and only
    once the run has taken more than ``delay`` seconds."""

    def __init__(self, strategies: list[str], events: int, stream=None,
                 delay: float = 1.0, enabled: bool | None = None, clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.strategies = strategies
        self.events = events
        self.delay = delay
        self.clock = clock
        self.t0 = clock()
        self.first: tuple[float, float] | None = None   # (time, fraction) of the first update
        self.done: dict[str, int] = {}                  # strategy -> events done
        self.last = 0.0
        self.drawn = False

    def fraction(self, strategy: str, done: int, total: int) -> float:
        """The share of all strategies' events done, from each strategy's
        latest count: right whether the strategies run one after another or
        side by side (``--jobs``), where their updates interleave."""
        total = max(total, 1)
        self.done[strategy] = min(done, total)
        return min(1.0, sum(self.done.values()) / (len(self.strategies) * total))

    def eta(self, now: float, frac: float) -> float:
        """Seconds left, from the rate since the first update (or since the
        start, on the first update itself)."""
        t_ref, f_ref = self.first if self.first is not None else (self.t0, 0.0)
        if self.first is not None and (frac <= f_ref or now <= t_ref):
            t_ref, f_ref = self.t0, 0.0
        if frac <= f_ref or now <= t_ref:
            return float("nan")
        return (now - t_ref) * (1 - frac) / (frac - f_ref)

    def line(self, strategy: str, done: int, total: int, now: float, cols: int) -> str:
        """The fullest form of the line that fits ``cols - 1`` characters."""
        from ..report import fmt_count
        frac = self.fraction(strategy, done, total)
        i = self.strategies.index(strategy) + 1 if strategy in self.strategies else 1
        n = len(self.strategies)
        pct = f"{100 * frac:3.0f}%"
        eta = f"eta {fmt_duration(self.eta(now, frac))}"
        took = fmt_duration(now - self.t0)
        counts = f"{fmt_count(done)}/{fmt_count(total)}"
        bar = "[" + "#" * int(frac * 20) + "." * (20 - int(frac * 20)) + "]"
        forms = (f"{bar} {pct} {strategy} ({i}/{n}) {counts} events, {took}, {eta}",
                 f"{pct} {strategy} ({i}/{n}) {counts} events, {took}, {eta}",
                 f"{pct} ({i}/{n}) {counts}, {took}, {eta}",
                 f"{pct} ({i}/{n}) {eta}",
                 f"{pct} {eta}",
                 pct)
        room = max(cols - 1, 4)
        return next((f for f in forms if len(f) <= room), pct)

    def __call__(self, strategy: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if self.first is None:
            self.first = (now, self.fraction(strategy, done, total))
        if now - self.t0 < self.delay or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        cols = 0
        try:
            cols = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass
        if cols < 8:                      # unknown or absurd: assume 80
            cols = 80
        text = self.line(strategy, done, total, now, cols)
        self.stream.write("\r" + text.ljust(cols - 1))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False
