"""SIGTERM handled like Ctrl-C: ``kill PID`` (or a batch system's stop)
unwinds the program as KeyboardInterrupt does, so temporary files are
removed and worker pools shut down instead of being left behind."""
from __future__ import annotations

import contextlib
import signal
import threading

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143     # 128 + SIGINT, 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def _raise(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within the block, SIGTERM raises :class:`Terminated` (a
    KeyboardInterrupt). Only the main thread can install handlers; elsewhere
    this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def exit_status(exc: KeyboardInterrupt) -> int:
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
