"""Real page faults for ``fastring live`` (``live.faults = "real"``).

The user arena becomes a file-backed shared mapping, and a helper thread
drops random pages of it at ``live.drop_pages_per_s``: ``madvise(
MADV_DONTNEED)`` unmaps the page from the process (the next touch takes a
minor fault: the page is still in the page cache), and for every other drop
``posix_fadvise(POSIX_FADV_DONTNEED)`` evicts it from the page cache too
(the next touch reads it back from the file: a major fault). The pages
dropped are drawn from the seed.

A user-space copy cannot disable page faults, so with real faults a
``nofault`` copy still takes the fault (it is never DATA_MISSING); the
faults each writer took come from ``getrusage(RUSAGE_THREAD)``.
"""
from __future__ import annotations

import mmap
import os
import resource
import tempfile
import threading

import numpy as np

from ..model.rng import S_DROP, u01_py
from ..world.prepare import PAGE


def supported() -> bool:
    return (hasattr(mmap, "MADV_DONTNEED") and hasattr(os, "posix_fadvise")
            and hasattr(resource, "RUSAGE_THREAD"))


def thread_faults() -> tuple[int, int]:
    """(minor, major) page faults of the calling thread so far."""
    r = resource.getrusage(resource.RUSAGE_THREAD)
    return r.ru_minflt, r.ru_majflt


class FileArena:
    """``data`` copied into a temporary file and mapped back read-only;
    ``array`` is the mapping as uint8. Close after every user of ``array``
    has let go of it."""

    def __init__(self, data: np.ndarray):
        fd, self.path = tempfile.mkstemp(prefix="fastring-live-arena-")
        self.fd = fd
        os.write(fd, data.tobytes())
        os.fsync(fd)                      # clean pages: fadvise can drop them
        # The write left the file in the page cache as large folios, which a
        # one-page fadvise cannot split: drop them all and read the file back
        # page by page without readahead (RANDOM), so that each page is its
        # own folio and each drop its own fault.
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        self.n_pages = (data.size + PAGE - 1) // PAGE
        self.map = mmap.mmap(fd, data.size, access=mmap.ACCESS_READ)
        self.map.madvise(mmap.MADV_RANDOM)
        self.array = np.frombuffer(self.map, dtype=np.uint8)
        int(self.array[::PAGE].sum())     # start warm: every page in

    def drop(self, page: int, evict: bool) -> None:
        """Unmap ``page`` (next touch: a minor fault); ``evict``: drop it
        from the page cache too (next touch: a major fault)."""
        self.map.madvise(mmap.MADV_DONTNEED, page * PAGE, PAGE)
        if evict:
            os.posix_fadvise(self.fd, page * PAGE, PAGE, os.POSIX_FADV_DONTNEED)

    def close(self) -> None:
        self.array = None
        try:
            self.map.close()
        finally:
            os.close(self.fd)
            os.unlink(self.path)


class PageDropper(threading.Thread):
    """Drops ``rate`` pages per second of ``arena`` until stopped, in 1 ms
    batches, every other one evicted from the page cache too; ``dropped``
    counts them."""

    def __init__(self, arena: FileArena, rate: float, seed: int):
        super().__init__(name="fastring-live-dropper", daemon=True)
        self.arena, self.rate, self.seed = arena, rate, seed
        self.stop = threading.Event()
        self.dropped = 0

    def run(self) -> None:
        owed = 0.0
        while not self.stop.wait(0.001):
            owed += self.rate * 0.001
            while owed >= 1.0:
                u = u01_py(self.seed, S_DROP, self.dropped, 0)
                self.arena.drop(int(u * self.arena.n_pages), self.dropped % 2 == 1)
                self.dropped += 1
                owed -= 1.0
