"""The engine's queue of pending happenings: a 4-ary heap of (time, code)
pairs must pop in the total order of the pairs, like ``heapq`` in the
reference engine, with all 64 bits of time kept."""
from collections import namedtuple

import numpy as np
from hypothesis import given, settings, strategies as st

from fastring import engine as E

Q = namedtuple("Q", "g heap_t heap_v")
BIG = 2**62


def _queue(n):
    return Q(np.zeros(E.N_GLOBAL, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, BIG)), max_size=60),
       st.integers(0, 2**20), st.data())
def test_heap_pops_in_pair_order_with_interleaved_pushes(ops, base, data):
    """Unique codes, times that tie often or span 62 bits; pops interleaved
    with pushes (the engine pushes while others are pending)."""
    q = _queue(len(ops) + 1)
    model = []
    code = 0
    for pop, t in ops:
        if pop and model:
            model.sort()
            assert E.heap_pop(q) == tuple(model.pop(0))
        else:
            t = base + (t % 3 if data.draw(st.booleans()) else t)   # many ties
            E.heap_push(q, t, code)
            model.append((t, code))
            code += 1
        assert q.g[E.GLOBAL_HEAP_LEN] == len(model)
        if model:
            t0, c0 = min(model)
            assert not E._pending_before(q, t0, c0 - 1)
            assert E._pending_before(q, t0, c0 + 1)
    model.sort()
    while model:
        assert E.heap_pop(q) == tuple(model.pop(0))


def test_heap_keeps_every_bit_of_time():
    q = _queue(4)
    for t, c in ((2**63 - 1, 0), (2**63 - 2, 5), (2**63 - 2, 3)):
        E.heap_push(q, t, c)
    assert [E.heap_pop(q) for _ in range(3)] == [(2**63 - 2, 3), (2**63 - 2, 5), (2**63 - 1, 0)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, BIG), min_size=1, max_size=60),
       st.lists(st.integers(0, 40), max_size=60))
def test_replace_is_push_then_pop_when_a_pending_pair_comes_first(times, later):
    """heap_replace(t, v) for a pair that a pending one comes before (as the
    engine calls it) returns the smallest pair and leaves the same pending
    pairs as heapq's push then pop: the pops that follow are the same."""
    import heapq
    q = _queue(len(times) + 1)
    model = []
    for code, t in enumerate(times):
        E.heap_push(q, t, code)
        heapq.heappush(model, (t, code))
    code = len(times)
    for dt in later:
        t = model[0][0] + dt                      # soon after the smallest
        if not E._pending_before(q, t, code):
            continue
        assert E.heap_replace(q, t, code) == heapq.heappushpop(model, (t, code))
        code += 1
    assert q.g[E.GLOBAL_HEAP_LEN] == len(model)
    while model:
        assert E.heap_pop(q) == heapq.heappop(model)
