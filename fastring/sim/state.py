"""The engine's state: plain int64 arrays in one namedtuple (no jitclass)."""
from __future__ import annotations

from collections import namedtuple
import numpy as np

from ..model import buffer as B
from ..model.histogram import N_BINS
from ..world.prepare import P_CAPMAX, P_MAXPG, P_NCPU, P_NPAGES, P_NTASK
from .layout import N_T, N_C, N_G, N_K, N_H, N_E


State = namedtuple("State", "g k h t c rq pages reclaim jumps resident scratch "
                            "bounce heap_t heap_v rows delivery")


def new_state(world, ring, n_bounded: int, rows_cap: int) -> State:
    p = world.p
    n_cpus, n_tasks = int(p[P_NCPU]), int(p[P_NTASK])
    # scratch and bounce buffers hold payload bytes: none in "sizes" mode
    cap = int(p[P_CAPMAX]) if ring.geo[B.G_PAYLOAD] == B.PAYLOAD_BYTES else 0
    n_heap = n_tasks + n_cpus + 1
    return State(
        np.zeros(N_G, np.int64), np.zeros(N_K, np.int64),
        np.zeros((N_H, N_BINS), np.int64), np.zeros((n_tasks, N_T), np.int64),
        np.zeros((n_cpus, N_C), np.int64), np.full(n_tasks, -1, np.int64),
        np.zeros((n_tasks, int(p[P_MAXPG])), np.int8),
        np.zeros((n_tasks, int(p[P_MAXPG])), np.int64),
        np.zeros((n_tasks, max(n_bounded, 1)), np.int64),
        np.zeros(int(p[P_NPAGES]), np.int64),
        np.zeros(n_cpus * max(cap, 1), np.uint8),
        np.zeros(n_tasks * max(cap, 1), np.uint8),
        np.zeros(n_heap, np.int64), np.zeros(n_heap, np.int64),
        np.zeros((rows_cap, N_E), np.int64),
        np.zeros(N_BINS, np.int64))
