"""The queue of pending happenings: a 4-ary heap of ``(time, code)`` pairs."""
from __future__ import annotations

import numpy as np
from numba import njit

from .layout import GLOBAL_HEAP_LEN


# -- the queue of pending happenings: (time, code), smallest first ------------
# A 4-ary heap (half the depth of a binary one) of pairs ``(heap_t[i],
# heap_v[i])``, compared without branches on the comparison's outcome (which
# a CPU cannot predict): faster than the binary heap it replaces, 1.06x at
# 20 entries, 1.25-1.3x at 320 to 5120 (``benchmarks/heap_variants.py``).
# Codes are unique among pending entries (a task or a reader is pending at
# most once), so the pop order is the total order of the pairs, whatever the
# heap's shape: the same as ``heapq`` in the reference. Packing (time, code)
# into one int64 key was 1.5-1.6x faster still, but would take the code's
# bits from time; time keeps all 64 bits.

@njit(cache=True, _nrt=False, inline="always")
def _less(ta, va, tb, vb):
    return (ta < tb) | ((ta == tb) & (va < vb))


@njit(cache=True, _nrt=False, inline="always")
def _put(ht, hv, i, t, v):
    """Entry ``i`` holds the pair ``(t, v)``."""
    ht[i] = t
    hv[i] = v


@njit(cache=True, _nrt=False, inline="always")
def heap_push(s, t, v):
    ht, hv = s.heap_t, s.heap_v
    i = s.g[GLOBAL_HEAP_LEN]
    s.g[GLOBAL_HEAP_LEN] = i + 1
    while i > 0:
        parent = (i - 1) >> 2
        pt, pv = ht[parent], hv[parent]
        if not _less(t, v, pt, pv):
            break
        _put(ht, hv, i, pt, pv)             # the parent moves down
        i = parent
    _put(ht, hv, i, t, v)


@njit(cache=True, _nrt=False, inline="always")
def _min_child(ht, hv, c, end):
    """The smallest of the children ``c`` to ``end - 1``, with conditional
    moves, not branches."""
    ct, cv = ht[c], hv[c]
    for j in range(c + 1, end):
        jt, jv = ht[j], hv[j]
        smaller = _less(jt, jv, ct, cv)
        c = j if smaller else c
        ct = jt if smaller else ct
        cv = jv if smaller else cv
    return c, ct, cv


@njit(cache=True, _nrt=False, inline="always")
def _sift_down(ht, hv, n, t, v):
    """Put ``(t, v)`` at the root of the ``n`` entries and move it down to
    its place."""
    i = 0
    while True:
        c = 4 * i + 1
        if c >= n:
            break
        if c + 4 <= n:                      # a constant trip count: unrolled
            c, ct, cv = _min_child(ht, hv, c, c + 4)
        else:
            c, ct, cv = _min_child(ht, hv, c, n)
        if not _less(ct, cv, t, v):
            break
        _put(ht, hv, i, ct, cv)             # the smallest child moves up
        i = c
    _put(ht, hv, i, t, v)


@njit(cache=True, _nrt=False, inline="always")
def heap_pop(s):
    ht, hv = s.heap_t, s.heap_v
    n = s.g[GLOBAL_HEAP_LEN] - 1
    s.g[GLOBAL_HEAP_LEN] = n
    t0, v0 = ht[0], hv[0]
    _sift_down(ht, hv, n, ht[n], hv[n])    # the last entry fills the root
    return t0, np.int64(v0)


@njit(cache=True, _nrt=False, inline="always")
def heap_replace(s, t, v):
    """Pop the smallest pair and push ``(t, v)``, which a pending pair comes
    before (``heapq.heapreplace``): one short sift instead of two. A task
    that must wait for an earlier happening is pushed at a time soon after
    it, smaller than most pending pairs (tasks thinking, readers asleep), so
    it settles near the root; at 1024 CPUs nearly every probe step waits so
    (8 pops an event, against 2.3 at 4 CPUs), in a heap three times deeper."""
    ht, hv = s.heap_t, s.heap_v
    t0, v0 = ht[0], hv[0]
    _sift_down(ht, hv, s.g[GLOBAL_HEAP_LEN], t, v)
    return t0, np.int64(v0)


@njit(cache=True, _nrt=False, inline="always")
def _pending_before(s, t, code):
    """Does a pending happening come before ``code``'s at ``t``? If not,
    running it now is the same as pushing and popping it."""
    return s.g[GLOBAL_HEAP_LEN] > 0 and not _less(t, code, s.heap_t[0], s.heap_v[0])
