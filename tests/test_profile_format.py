"""The cost-profile file format, written and read in one module
(fastring.world.costs: save_profile / load_profile)."""
import math

import pytest
from hypothesis import given, settings, strategies as st

from fastring.world import costs

_cost = st.floats(min_value=0.0, max_value=costs.COST_MAX_NS,
                  allow_nan=False, allow_infinity=False)
_profile = st.dictionaries(st.sampled_from(costs.COST_KEYS), _cost)


@settings(max_examples=60, deadline=None)
@given(written=_profile, note=st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20))
def test_write_then_read_gives_the_same_costs_bit_for_bit(tmp_path_factory, written, note):
    path = tmp_path_factory.mktemp("p") / "host.toml"
    costs.save_profile(path, written, header=["a header", ""],
                       notes={k: note for k in written},
                       reasons={k: "why" for k in costs.COST_KEYS},
                       tail=["", "[host]", 'cpu = "x"'])
    read = costs.load_profile(str(path))
    assert list(read) == list(costs.DEFAULT)
    for key in costs.COST_KEYS:
        want = written.get(key, costs.DEFAULT[key])
        assert read[key].hex() == float(want).hex(), key


def test_edge_floats_round_trip(tmp_path):
    edge = {"local_add": 5e-324, "memcpy_byte": 0.1 + 0.2,
            "context_switch": costs.COST_MAX_NS, "clock_read": 0.0,
            "atomic_add": math.nextafter(1.0, 2.0)}
    path = costs.save_profile(tmp_path / "e.toml", edge)
    read = costs.load_profile(str(path))
    assert {k: read[k].hex() for k in edge} == {k: v.hex() for k, v in edge.items()}


@pytest.mark.parametrize("bad, match", [
    ({"no_such_cost": 1.0}, "no_such_cost"),
    ({"clock_read": float("nan")}, "clock_read"),
    ({"clock_read": -1.0}, "clock_read"),
    ({"clock_read": 2 * costs.COST_MAX_NS}, "clock_read"),
    ({"clock_read": True}, "clock_read"),
])
def test_invalid_costs_are_refused_and_nothing_written(tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        costs.save_profile(tmp_path / "x.toml", bad)
    assert list(tmp_path.iterdir()) == []


def test_omitted_keys_are_listed_with_their_defaults(tmp_path):
    path = costs.save_profile(tmp_path / "o.toml", {"clock_read": 21.0},
                              reasons={"preempt_off": "kernel-only"})
    text = path.read_text()
    assert "#   preempt_off = 1.0  (kernel-only)" in text
    assert "#   atomic_add = 5.0  (not measured)" in text
    assert "#   clock_read" not in text
