"""The sweep's progress line on stderr."""
from __future__ import annotations

import shutil
import sys
import threading
import time


# ---------------------------------------------------------------- progress

def _fmt_time(s: float) -> str:
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class _Progress:
    """A one-line progress bar over cells on stderr, with the time left;
    redrawn every half second; silent unless enabled and stderr is a TTY."""

    def __init__(self, total: int, skipped: int, enabled: bool, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(enabled and total and getattr(self.stream, "isatty", lambda: False)())
        self.total, self.skipped = total, skipped
        self.done = self.failed = 0
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = None
        if self.enabled:
            if skipped:
                self.stream.write(f"sweep: resuming: {skipped} cells done before, "
                                  f"{total} to run\n")
            self.thread = threading.Thread(target=self._tick, daemon=True)
            self.thread.start()

    def _tick(self):
        while not self.stop.wait(0.5):
            self.draw()

    def update(self, ok: bool):
        with self.lock:
            self.done += 1
            self.failed += not ok
        self.draw()

    def line(self) -> str:
        el = time.monotonic() - self.t0
        if self.done:
            left = f"~{_fmt_time(el / self.done * (self.total - self.done))} left"
        else:
            left = "estimating time left"
        failed = f" ({self.failed} failed)" if self.failed else ""
        text = f"{self.done}/{self.total} cells{failed} | {_fmt_time(el)} elapsed, {left}"
        cols = shutil.get_terminal_size((80, 20)).columns
        width = max(10, min(30, cols - 66))
        fill = int(width * self.done / self.total)
        return (f"sweep [{'#' * fill}{'.' * (width - fill)}] "
                f"{100 * self.done // self.total:3d}% {text}")[:cols - 1]

    def draw(self):
        if not self.enabled:
            return
        with self.lock:
            self.stream.write("\r\x1b[K" + self.line())
            self.stream.flush()

    def close(self):
        if not self.enabled:
            return
        self.stop.set()
        self.thread.join()
        self.draw()
        self.stream.write("\n")
        self.stream.flush()
