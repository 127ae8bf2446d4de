"""What ``fastring run`` and ``fastring sweep`` show while they work: a note
before the kernels compile (the one long silence of a first run), and a
one-line progress bar on stderr.

:class:`ProgressLine` is the bar, written once: drawn only on a terminal,
redrawn in place, the time left estimated from the rate since the first
update, and no number ever cut (on a narrow terminal whole parts of the line
are dropped). :class:`ProgressBar` (a run: each strategy's events) and
:class:`CellProgress` (a sweep: cells done and failed) only say what the line
reads.

The kernels are compiled, or loaded from the cache, by a tiny warm-up run
before a run's bar starts (:func:`warm_up`, then :meth:`ProgressLine.start`),
so the bar's clock measures simulation only and its ETA is sane from the
first update.
"""
from __future__ import annotations

import copy
import io
import os
import sys
import threading
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


def bar(frac: float, width: int = 20) -> str:
    """``[#####...............]``: ``frac`` of ``width`` filled."""
    fill = int(min(max(frac, 0.0), 1.0) * width)
    return "[" + "#" * fill + "." * (width - fill) + "]"


class ProgressLine:
    """One line on ``stream`` (stderr), redrawn in place; drawn only when
    ``enabled`` and the stream is a terminal, not before ``delay`` seconds,
    at most once per ``every`` seconds (the last update always), and every
    ``tick`` seconds by a thread when given (the elapsed time moves between
    slow updates). :meth:`close` clears the line, or with ``keep`` leaves its
    last state on screen. Subclasses call :meth:`show` with the fraction done
    and the texts of the line, fullest first."""

    def __init__(self, stream=None, *, enabled: bool = True, delay: float = 0.0,
                 every: float = 0.1, tick: float | None = None, keep: bool = False,
                 clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(enabled) and bool(getattr(self.stream, "isatty",
                                                      lambda: False)())
        self.delay, self.every, self.keep, self.clock = delay, every, keep, clock
        self.t0 = clock()
        self.first: tuple[float, float] | None = None   # (time, fraction) of the first update
        self.last = float("-inf")                       # time of the last draw
        self.drawn = False
        self._shown = None                              # the last (frac, forms)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread = None
        if self.enabled and tick:
            self._thread = threading.Thread(target=self._tick, args=(tick,), daemon=True)
            self._thread.start()

    def start(self) -> None:
        """Restart the clock (after the kernels compiled: :func:`warm_up`)."""
        self.t0, self.first = self.clock(), None

    def eta(self, now: float, frac: float) -> float:
        """Seconds left, from the rate since the first update (or since the
        start, on the first update itself)."""
        t_ref, f_ref = self.first if self.first is not None else (self.t0, 0.0)
        if self.first is not None and (frac <= f_ref or now <= t_ref):
            t_ref, f_ref = self.t0, 0.0
        if frac <= f_ref or now <= t_ref:
            return float("nan")
        return (now - t_ref) * (1 - frac) / (frac - f_ref)

    @staticmethod
    def fit(forms, cols: int) -> str:
        """The first (fullest) of ``forms`` that fits ``cols - 1`` characters."""
        room = max(cols - 1, 4)
        return next((f for f in forms if len(f) <= room), forms[-1])

    def show(self, frac: float, forms, final: bool = False) -> None:
        """Draw ``forms(now, cols)`` (the texts, fullest first) for progress
        ``frac``; ``final``: the last update, drawn even if one was just drawn."""
        if not self.enabled:
            return
        with self._lock:
            now = self.clock()
            if self.first is None:
                self.first = (now, frac)
            self._shown = (frac, forms)
            if now - self.t0 < self.delay or (now - self.last < self.every and not final):
                return
            self.last = now
            cols = _columns(self.stream)
            self.stream.write("\r" + self.fit(forms(now, cols), cols).ljust(cols - 1))
            self.stream.flush()
            self.drawn = True

    def _tick(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            self._redraw()

    def _redraw(self) -> None:
        with self._lock:
            if self._shown is not None:
                self.show(*self._shown, final=True)

    def close(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self.keep:
            self._redraw()
        if self.drawn:
            self.stream.write("\n" if self.keep else "\r\033[K")
            self.stream.flush()
            self.drawn = False


def _columns(stream) -> int:
    """The terminal's width, or 80 when unknown or absurd."""
    try:
        cols = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        cols = 0
    return cols if cols >= 8 else 80


class ProgressBar(ProgressLine):
    """A run's bar: the events of each strategy, shown once the run has taken
    more than ``delay`` seconds; called as ``progress(strategy, done, total)``
    by :func:`fastring.run`."""

    def __init__(self, strategies: list[str], events: int, stream=None,
                 delay: float = 1.0, enabled: bool = True, clock=time.monotonic):
        super().__init__(stream, enabled=enabled, delay=delay, clock=clock)
        self.strategies = strategies
        self.events = events
        self.done: dict[str, int] = {}                  # strategy -> events done

    def fraction(self, strategy: str, done: int, total: int) -> float:
        """The share of all strategies' events done, from each strategy's
        latest count: right whether the strategies run one after another or
        side by side (``--jobs``), where their updates interleave."""
        total = max(total, 1)
        self.done[strategy] = min(done, total)
        return min(1.0, sum(self.done.values()) / (len(self.strategies) * total))

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
        return self.fit((f"{bar(frac)} {pct} {strategy} ({i}/{n}) {counts} events, {took}, {eta}",
                         f"{pct} {strategy} ({i}/{n}) {counts} events, {took}, {eta}",
                         f"{pct} ({i}/{n}) {counts}, {took}, {eta}",
                         f"{pct} ({i}/{n}) {eta}",
                         f"{pct} {eta}",
                         pct), cols)

    def __call__(self, strategy: str, done: int, total: int) -> None:
        if self.enabled:
            self.show(self.fraction(strategy, done, total),
                      lambda now, cols: [self.line(strategy, done, total, now, cols)],
                      final=done >= total)


class CellProgress(ProgressLine):
    """A sweep's bar: cells done (and failed) of those to run, redrawn every
    half second and left on screen when the sweep ends; a resumed sweep first
    says how many cells were done before."""

    def __init__(self, total: int, skipped: int, enabled: bool = True, stream=None):
        super().__init__(stream, enabled=enabled and total > 0, every=0.0, tick=0.5,
                         keep=True)
        self.total, self.skipped = total, skipped
        self.done = self.failed = 0
        if self.enabled and skipped:
            self.stream.write(f"sweep: resuming: {skipped} cells done before, "
                              f"{total} to run\n")
        self.show(0.0, self.forms)

    def update(self, ok: bool) -> None:
        """One more cell finished (``ok``: without failing)."""
        with self._lock:
            self.done += 1
            self.failed += not ok
            self.show(self.done / self.total, self.forms)

    def forms(self, now: float, cols: int) -> list[str]:
        frac = self.done / self.total
        left = (f"~{fmt_duration(self.eta(now, frac))} left" if self.done
                else "estimating time left")
        failed = f" ({self.failed} failed)" if self.failed else ""
        cells, pct = f"{self.done}/{self.total} cells{failed}", f"{100 * frac:3.0f}%"
        return [f"sweep {bar(frac)} {pct} {cells} | {fmt_duration(now - self.t0)} "
                f"elapsed, {left}", f"sweep {pct} {cells} | {left}", f"{pct} {cells}", pct]
