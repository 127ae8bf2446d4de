"""Fuzzing the whole config schema (issue 17, item 7).

The strategies are derived from :data:`fastring.config.SCHEMA` generically:
every key of every section (keys added later are covered without touching
this file), each drawn at its extremes, its default or in between, or left
out; tables and records through their sub-keys; plus valid user programs.

* :func:`test_whole_schema_is_refused_cleanly_or_runs_its_estimate`: with the
  full ranges, a config is either refused with a ConfigError / ProgramError
  that names a key, or loads and is either refused by the estimator or under
  its limits; nothing else (no OverflowError, no MemoryError, no crash).
* :func:`test_fuzz_runs_keep_the_invariants`: the same draws with the keys
  that size a run capped (events, CPUs, tasks, memory), run through
  :func:`fastring.run`: conservation, no negative counts or times,
  p50 <= p99 <= p999 <= max, ``verify_errors == 0`` (every generated
  program writes every byte it commits).

CI runs this file a second time with ``NUMBA_BOUNDSCHECK=1`` (``.ci/run``),
so the fuzzed runs also check every array index and every byte access of
the ring (``fastring._intrinsics.CHECKED``). The budget is fixed and the
draws derandomized; ``FASTRING_FUZZ_EXAMPLES=N`` runs more, and
``FASTRING_FUZZ_RANDOM=1`` draws afresh each time.
"""
import copy
import math
import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

import fastring
from fastring import _intrinsics, api, config
from fastring.sim import estimate
from fastring.model import strategies as S
from fastring.config import SCHEMA, ConfigError, Key

EXAMPLES = int(os.environ.get("FASTRING_FUZZ_EXAMPLES",
                              60 if _intrinsics.CHECKED else 15))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize="FASTRING_FUZZ_RANDOM" not in os.environ,
                suppress_health_check=list(HealthCheck))

#: the keys that size a run, capped for the runs (the full ranges still go
#: through loading and the estimator in the first test)
CAPS = {"run.events": 3000, "run.chunk_events": 4096, "machine.n_cpus": 6,
        "machine.tasks_per_cpu": 6, "workload.user_pages": 1 << 12,
        "workload.working_set_pages": 1 << 12, "workload.capture_max": 1 << 14,
        "buffer.subbuf_size": 1 << 16, "buffer.n_subbuf": 64}
#: a fuzzed run must fit this (the estimator's own figures)
RUN_SECONDS, RUN_BYTES = 1.0, 256 << 20


# ------------------------------------------------------ values from the schema

def _ints(lo: int, hi: int) -> st.SearchStrategy:
    """Integers in [lo, hi]: the ends, or log-uniform over the distance."""
    span = hi - lo
    return st.one_of(st.sampled_from([lo, hi]), st.integers(0, span.bit_length()).flatmap(
        lambda b: st.integers(lo, lo + min(span, (1 << b) - 1))))


def _floats(lo: float, hi: float, lo_open: bool) -> st.SearchStrategy:
    low = math.nextafter(lo, math.inf) if lo_open else lo
    ends = st.sampled_from([low, hi])
    if low > 0:
        return st.one_of(ends, st.floats(math.log10(low), math.log10(hi)).map(
            lambda e: min(max(10.0 ** e, low), hi)))
    tiny = st.floats(-12, math.log10(hi)).map(lambda e: min(10.0 ** e, hi))
    return st.one_of(ends, st.floats(low, hi), tiny)


def value(path: str, k: Key) -> st.SearchStrategy | None:
    """Values of one key (None: a key this generator cannot make up, such as
    a free string; it keeps its default)."""
    hi = k.hi
    if path in CAPS:
        hi = CAPS[path] if hi is None else min(hi, CAPS[path])
    if k.type == "int":
        lo = int(k.lo) + (1 if k.lo_open else 0)
        hi = int(hi) if hi is not None else lo + 10**12
        if k.pow2:
            return _ints(max(lo, 1).bit_length() - (lo & (lo - 1) == 0),
                         hi.bit_length() - 1).map(lambda e: 1 << e)
        m = k.multiple_of
        return _ints(-(-lo // m), hi // m).map(lambda x: x * m)
    if k.type == "float":
        return _floats(float(k.lo), float(hi if hi is not None else 1e12), k.lo_open)
    if k.type == "bool":
        return st.booleans()
    if k.type == "choice":
        return st.sampled_from(k.choices)
    if k.type in ("table", "records") and k.sub is not None and path != "strategies":
        rec = record(path, k.sub)
        if k.type == "records":
            return st.lists(rec, max_size=3, unique_by=lambda r: r.get(k.sort_by))
        lo, hi = k.count
        names = st.from_regex(k.name_re, fullmatch=True).map(lambda n: n[:12]).filter(
            lambda n: re.fullmatch(k.name_re, n) and n not in k.reserved)
        return st.dictionaries(names, rec, min_size=lo, max_size=min(hi, 4))
    return None


def record(path: str, sub) -> st.SearchStrategy:
    """A table of fixed keys (a syscall kind, an injection): required keys
    always, the others maybe."""
    required, optional = {}, {}
    for key, k in sub.items():
        strat = value(f"{path}.{key}", k)
        if strat is not None:
            (required if k.default is config._REQUIRED else optional)[key] = strat
    return st.fixed_dictionaries(required, optional=optional)


# ------------------------------------------------------------ user programs

COMMITS = ("commit_local", "commit_split", "commit_atomic")
TEMPLATES = [   # each writes every byte it commits (a slot copy or memcpy)
    ["{pre}", "preempt_off", "reserve", "copy_user_to_slot nofault", "{commit}",
     "preempt_on"],
    ["kmalloc", "{pre}", "copy_user_to_bounce", "preempt_off", "reserve",
     "memcpy_bounce_to_slot", "{commit}", "preempt_on", "kfree"],
    ["preempt_off", "try: read_cs", "migrate_off", "preempt_on",
     "copy_user_to_scratch", "preempt_off", "migrate_on",
     "retry_if_cs_changed try {n}", "reserve", "memcpy_scratch_to_slot",
     "{commit}", "preempt_on"],
    ["{pre}", "preempt_off", "reserve", "preempt_on", "copy_user_to_slot",
     "preempt_off", "{remote}", "preempt_on"],
    ["again: {pre}", "preempt_off", "reserve", "copy_user_to_slot nofault",
     "{commit}", "preempt_on", "if_missing again {n}"],
]


@st.composite
def program(draw):
    steps = draw(st.sampled_from(TEMPLATES))
    fill = {"pre": draw(st.sampled_from(["strnlen", "fault_in", "read_cs"])),
            "commit": draw(st.sampled_from(COMMITS)),
            "remote": draw(st.sampled_from(COMMITS[1:])),
            "n": draw(st.sampled_from([0, 1, 3, S.MAX_BOUND]))}
    prog = [s.format(**fill) for s in steps]
    if "migrate_off" not in prog and draw(st.booleans()):
        prog = ["migrate_off", *prog, "migrate_on"]    # pinned the whole probe
    return prog


#: every key of the schema: (dotted path, Key); a section that is one value
#: (a table of user entries) is one key, user strategies are drawn apart
KEYS = [(f"{sec}.{key}", k) for sec, spec in SCHEMA.items() if isinstance(spec, dict)
        for key, k in spec.items()] + \
       [(sec, spec) for sec, spec in SCHEMA.items()
        if isinstance(spec, Key) and sec != "strategies"]
DRAWN = [(path, k, value(path, k)) for path, k in KEYS]
DRAWN = [(path, k, strat) for path, k, strat in DRAWN if strat is not None]


@st.composite
def configs(draw, max_keys, base=None):
    """A partial config: up to ``max_keys`` keys of the whole schema set
    (each at an extreme, its default or in between), the rest from ``base``
    or the defaults; built-in and generated user strategies."""
    cfg = copy.deepcopy(base or {})
    chosen = draw(st.lists(st.sampled_from(range(len(DRAWN))), unique=True,
                           max_size=max_keys))
    for i in chosen:
        path, _, strat = DRAWN[i]
        node = cfg
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = draw(strat)
    names = draw(st.lists(st.sampled_from(["u1", "u2", "u3"]), max_size=2, unique=True))
    cfg["strategies"] = {n: {"program": draw(program())} for n in names}
    builtins = draw(st.lists(st.sampled_from(config.BUILTIN_STRATEGIES),
                             max_size=3, unique=True))
    cfg.setdefault("run", {})["strategies"] = (builtins + names) or ["nofault"]
    return cfg


def load_or_refusal(cfg):
    """The loaded config, or None after checking the refusal names a key."""
    try:
        loaded = config.load(cfg)            # compiles the programs too
    except ConfigError as exc:
        msg = str(exc)
        assert msg.split(".")[0].split(":")[0].split("[")[0] in (*SCHEMA, "config"), msg
        event(f"refused at load: {msg.split(':')[0][:40]}")
        return None, None
    return loaded, config.programs(loaded)


# --------------------------------------------------------------------- tests

@FUZZ
@given(configs(max_keys=len(DRAWN)))
def test_whole_schema_is_refused_cleanly_or_runs_its_estimate(cfg):
    loaded, _ = load_or_refusal(cfg)
    if loaded is None:
        return
    try:
        est = api.check(loaded)
    except estimate.EstimateError as exc:
        assert str(exc).split(":")[0].split(".")[0] in SCHEMA, str(exc)
        event("refused by the estimator")
        return
    assert est.seconds <= estimate.WORK_LIMIT_S
    assert est.memory_bytes <= estimate.memory_limit()
    assert 0 <= est.span_ns * estimate.SPAN_MARGIN <= estimate.CLOCK_LIMIT_NS
    event("accepted")


def _check_invariants(row):
    name = row["strategy"]
    assert row["events"] == (row["recorded"] + row["lost_full"] + row["lost_wrap"]
                             + row["lost_big"]), name
    for col, v in row.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            assert not v < 0, (name, col, v)           # NaN allowed (empty)
    for m, *_ in api.TIME_METRICS:
        p = [row[f"{m}_{q}_ns"] for q in ("p50", "p99", "p999", "max")]
        if not math.isnan(p[0]):
            assert p == sorted(p), (name, m, p)
    assert row["verify_errors"] == 0, name
    assert row["sim_time_ns"] <= estimate.CLOCK_LIMIT_NS


@pytest.mark.slow
@FUZZ
@given(configs(max_keys=6, base={"run": {"events": 2000}}))
def test_fuzz_runs_keep_the_invariants(cfg):
    loaded, progs = load_or_refusal(cfg)
    if loaded is None:
        return
    est = estimate.estimate(loaded, config.resolved_costs(loaded))
    if est.seconds > RUN_SECONDS or est.memory_bytes > RUN_BYTES:
        event("over the fuzz budget")
        return
    res = fastring.run(loaded)
    event("ran")
    buffers = res.buffers.to_pylist()
    costs = config.resolved_costs(loaded)
    bound = sum(estimate.span_parts(loaded, costs, estimate.program_shape(progs)).values())
    bound = estimate.SPAN_MARGIN * bound + estimate.longest_draw(loaded)[1]
    for row in res.runs.to_pylist():
        _check_invariants(row)
        assert row["sim_time_ns"] <= bound       # what the clock check relies on
        mine = [b for b in buffers if b["strategy"] == row["strategy"]]
        for col in ("lost_full", "lost_wrap", "lost_big", "verify_errors"):
            assert sum(b[col] for b in mine) == row[col], (row["strategy"], col)


def test_every_schema_key_is_drawn():
    """Keys other engineers add are fuzzed too: only free strings (and the
    user strategies, drawn as programs) are left to their defaults."""
    drawn = {path for path, *_ in DRAWN}
    for path, k in KEYS:
        assert path in drawn or k.type in ("str", "names", "program"), path


def test_generated_programs_compile():
    """The program generator only makes valid programs (else the fuzz would
    mostly test refusals)."""
    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(program())
    def one(prog):
        S.compile_program("u", prog)
    one()
