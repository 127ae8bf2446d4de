"""The shared layouts (fastring.sim.layout): written once, indexed by name."""
import importlib

from fastring import api
from fastring.world import costs
from fastring.reference import engine as ref
from fastring.sim import layout


def test_cost_indices_follow_the_keys_not_their_order(monkeypatch):
    """Reordering COST_KEYS must not change what a step charges: every cost
    index is looked up by key, so it follows the key wherever it moves."""
    names = {"C_CLOCK": "clock_read", "C_AADD": "atomic_add",
             "C_SWITCH": "context_switch", "C_UBYTE": "copy_user_byte"}
    monkeypatch.setattr(costs, "COST_KEYS", tuple(reversed(costs.COST_KEYS)))
    try:
        moved = importlib.reload(layout)
        for const, key in names.items():
            assert getattr(moved, const) == costs.COST_KEYS.index(key), const
    finally:
        monkeypatch.undo()
        importlib.reload(layout)
    for const, key in names.items():
        assert costs.COST_KEYS[getattr(layout, const)] == key


def test_every_reader_uses_the_one_layout():
    assert ref.EVENT_COLUMNS == layout.EVENT_COLUMNS
    assert ref.HIST_NAMES == layout.HIST_NAMES
    assert ref.COUNTER_NAMES[:layout.N_K] == layout.COUNTER_NAMES
    assert api.STATUS == layout.STATUS_NAMES
    assert [name for name, _, _ in api.TIME_METRICS] == list(layout.HIST_NAMES)
    assert layout.COUNTER_NAMES[layout.K_LOST_EVENTS] == "lost_events"
    assert layout.STATUS_NAMES[layout.ST_LOST_WRAP] == "lost_wrap"
