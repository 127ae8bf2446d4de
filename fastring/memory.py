"""Large zeroed arrays whose memory the OS provides as they are written.

A simulated machine's rings are large (``n_cpus x n_subbuf x subbuf_size``:
5 GiB at 1024 CPUs with the default 4 x 1 MiB) but a run writes them a
little at a time, and a short run only a small part of each. ``np.zeros``
asks the kernel for transparent huge pages on arrays of 4 MiB and more, so
the first byte written into each 2 MiB of a ring costs 2 MiB of zeroing and
of resident memory: a 200,000-event run at 1024 CPUs took 4.3 GB and spent
most of its time in the kernel's ``clear_page`` (``perf record``). Mapped
here in ordinary 4 KiB pages instead (private and anonymous: zero until
written, never shared with a forked process), the memory a run holds follows
the bytes it has written (259 MB for the same run; ``benchmarks/footprint.py``).
"""
from __future__ import annotations

import mmap

import numpy as np

#: below this, ``np.zeros`` (no huge pages are asked for below 4 MiB anyway)
LAZY_MIN_BYTES = 4 << 20


def lazy_zeros(n: int, dtype=np.uint8) -> np.ndarray:
    """``np.zeros(n, dtype)``, in 4 KiB pages the OS maps when first written."""
    dtype = np.dtype(dtype)
    nbytes = n * dtype.itemsize
    if nbytes < LAZY_MIN_BYTES or not hasattr(mmap, "MAP_ANONYMOUS"):
        return np.zeros(n, dtype)            # (no anonymous mmap: Windows)
    m = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(m, "madvise") and hasattr(mmap, "MADV_NOHUGEPAGE"):
        m.madvise(mmap.MADV_NOHUGEPAGE)   # also where huge pages are the default
    return np.frombuffer(m, dtype, count=n)
