"""The shared layouts (fastring.sim.layout): written once, indexed by name."""
import importlib

from fastring import api
from fastring.world import costs
from fastring.reference import engine as ref
from fastring.sim import layout


def test_cost_indices_follow_the_keys_not_their_order(monkeypatch):
    """Reordering COST_KEYS must not change what a step charges: every cost
    index is looked up by key, so it follows the key wherever it moves. Each
    key has its index named ``COST_`` + the key."""
    monkeypatch.setattr(costs, "COST_KEYS", tuple(reversed(costs.COST_KEYS)))
    try:
        moved = importlib.reload(layout)
        for key in costs.COST_KEYS:
            assert getattr(moved, "COST_" + key.upper()) == costs.COST_KEYS.index(key), key
    finally:
        monkeypatch.undo()
        importlib.reload(layout)
    for key in costs.COST_KEYS:
        assert costs.COST_KEYS[getattr(layout, "COST_" + key.upper())] == key


def test_task_record_is_compact_and_named_as_the_reference_task():
    """One task's fields fit in three cache lines, and every field of the
    engine's task record is an attribute of the reference engine's Task
    (the two read line by line)."""
    assert layout.TASK_DTYPE.itemsize <= 192
    ref_fields = set(ref.Task.__dataclass_fields__)
    assert set(layout.TASK_DTYPE.names) <= ref_fields


def test_every_reader_uses_the_one_layout():
    assert ref.EVENT_COLUMNS == layout.EVENT_COLUMNS
    assert ref.HIST_NAMES == layout.HIST_NAMES
    assert ref.COUNTER_NAMES[:layout.N_COUNTERS] == layout.COUNTER_NAMES
    assert api.STATUS == layout.STATUS_NAMES
    assert [name for name, _, _ in api.TIME_METRICS] == list(layout.HIST_NAMES)
    assert layout.COUNTER_NAMES[layout.COUNT_LOST_EVENTS] == "lost_events"
    assert layout.STATUS_NAMES[layout.ST_LOST_WRAP] == "lost_wrap"
