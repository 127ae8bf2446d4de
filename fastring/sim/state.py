"""The engine's state: plain NumPy arrays in one namedtuple (no jitclass).

Tasks and CPUs are record arrays (``layout.TASK_DTYPE``, ``CPU_DTYPE``):
one task's fields are contiguous and each has the narrowest type that holds
it, so a probe's state is a few cache lines; ``np.recarray`` gives the same
attribute access (``s.task[i].pc``) compiled or not."""
from __future__ import annotations

from collections import namedtuple
import numba
import numpy as np

from ..memory import lazy_zeros
from ..model import buffer as B
from ..model.histogram import N_BINS
from ..world.prepare import P_CAPMAX, P_MAXPG, P_NCPU, P_NPAGES, P_NTASK
from .layout import CPU_DTYPE, TASK_DTYPE, N_GLOBAL, N_COUNTERS, N_HISTS, N_E


State = namedtuple("State", "g k h task cpu rq pages reclaim jumps resident scratch "
                            "bounce heap_t heap_v rows delivery")


def records(n: int, dtype: np.dtype) -> np.recarray:
    """``n`` zeroed records of ``dtype`` (attribute access to their fields)."""
    rows = np.zeros(n, dtype).view(np.recarray)
    if numba.config.DISABLE_JIT:         # pragma: no cover - the no-JIT CI pass
        rows = rows.view(_PyRows)
        rows.row = _py_row_class(rows.view(np.ndarray))
    return rows


class _PyRows(np.recarray):
    """Under ``NUMBA_DISABLE_JIT=1``, ``rows[i]`` reads and writes its fields
    as fast as indexing an array (``np.record``'s attribute access took
    ~10 us, which made the engine's pure-Python runs 20x slower)."""

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            return self.row(i)
        return super().__getitem__(i)


def _py_row_class(array: np.ndarray) -> type:
    """A class whose instance ``row(i)`` has a property per field of
    ``array``, reading and writing ``array[field][i]``."""
    def field(column):
        def get(row):
            return column[row.i]

        def put(row, value):
            column[row.i] = value
        return property(get, put)

    def init(row, i):
        row.i = i
    attrs = {name: field(array[name]) for name in array.dtype.names}
    return type("Row", (), {"__slots__": ("i",), "__init__": init, **attrs})


def new_state(world, ring, n_bounded: int, rows_cap: int) -> State:
    p = world.p
    n_cpus, n_tasks = int(p[P_NCPU]), int(p[P_NTASK])
    # scratch and bounce buffers hold payload bytes: none in "sizes" mode
    cap = int(p[P_CAPMAX]) if ring.geo[B.G_PAYLOAD] == B.PAYLOAD_BYTES else 0
    n_heap = n_tasks + n_cpus + 1
    return State(
        np.zeros(N_GLOBAL, np.int64), np.zeros(N_COUNTERS, np.int64),
        np.zeros((N_HISTS, N_BINS), np.int64), records(n_tasks, TASK_DTYPE),
        records(n_cpus, CPU_DTYPE), np.full(n_tasks, -1, np.int32),
        np.zeros((n_tasks, int(p[P_MAXPG])), np.int8),
        np.zeros((n_tasks, int(p[P_MAXPG])), np.int64),
        np.zeros((n_tasks, max(n_bounded, 1)), np.int32),
        np.zeros(int(p[P_NPAGES]), np.int64),
        lazy_zeros(n_cpus * max(cap, 1)),           # written only by strategies
        lazy_zeros(n_tasks * max(cap, 1)),          # that copy through them
        np.zeros(n_heap, np.int64), np.zeros(n_heap, np.int32),
        np.zeros((rows_cap, N_E), np.int64),
        np.zeros(N_BINS, np.int64))
