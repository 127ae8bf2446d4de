"""The one nested configuration of fastring: schema, defaults, loading, validation.

A run is described by a single nested dict (section -> key -> value) that the
CLI, the Python API and the result tables share (DESIGN.md, "Configuration").
:func:`load` builds it from three layers, later ones winning:

1. :data:`DEFAULTS`, which make ``fastring run`` meaningful on its own;
2. the tracer preset named by ``tracer.preset`` (:mod:`fastring.world.presets`),
   for the keys the next two layers leave unset;
3. a *source*: a partial nested dict, or the path of a TOML file;
4. *overrides*: ``"section.key=value"`` strings (the CLI's ``--set``).

Derived defaults: ``workload.capture_max`` follows ``workload.capture``
unless set; with ``workload.source = "trace"`` the capture sets
``run.events``, the tasks and ``workload.syscalls`` (:mod:`fastring.world.replay`).

Merge rules
    Tables merge key by key; scalars and lists replace. So a source that sets
    ``workload.syscalls.openat.weight`` keeps the rest of the default mix
    (unless it sets ``workload.replace_mix = true``: then its kinds are the
    whole mix, as in the files ``fastring fit`` writes), and
    a source or override that names a new kind (``[workload.syscalls.mmap]``,
    ``workload.syscalls.mmap.weight=0.1``) adds it to the mix. A kind's missing
    sub-keys take their defaults (``payload = "none"``, ``len_median = 1``,
    ``len_sigma = 0``); ``weight`` is required.

    An override whose value is a table *replaces* the table at its key:
    ``workload.syscalls={read={weight=1, payload="buffer"}}`` leaves ``read``
    as the only kind (the one way to drop kinds from the default mix). Only a
    whole fixed section is merged into (``buffer={mode="overwrite"}``).

    Override values are parsed as TOML values (``3``, ``1e-3``, ``true``,
    ``"x"``, ``[1, 2]``, ``{a = 1}``); text that is not a TOML value is taken
    as a bare string, so ``buffer.mode=overwrite`` works.

Normalization
    The result is a new dict: ints are ``int`` (an integral float such as
    ``1e6`` is accepted for an int key), floats are ``float``, sub-key defaults
    are filled in, ``faults.inject`` is sorted by event. Syscall kinds and
    user strategies are sorted by name: the kinds' order indexes the engine's
    arrays, and sorting makes a config read back from its JSON (``to_json``
    sorts keys) run exactly the same as the original.

All checks are driven by :data:`SCHEMA`; the few constraints between keys are
in :func:`_check_whole`. Every :class:`ConfigError` names the dotted key, what
is allowed and the value given.
"""
from __future__ import annotations

import copy
import json
import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastring.world import capture as _capture
from fastring.world import costs as _costs
from fastring.config import layers as _layers
from fastring.world import presets as _presets
from fastring._toml import parse_value as _parse_value
from fastring.errors import ConfigError


BUILTIN_STRATEGIES = ("nofault", "kmalloc_bounce", "percpu_retry",
                      "copy_then_commit", "copy_then_commit_atomic",
                      "restart_on_fault")

_REQUIRED = object()   # the key has no default: it must be given
_OPTIONAL = object()   # the key may be absent, and stays absent


@dataclass(frozen=True)
class Key:
    """One key of the schema.

    ``type`` is a scalar type (``int``, ``float``, ``bool``, ``str``,
    ``choice``) or a shape: ``names`` (list of strategy names), ``program``
    (list of steps), ``table`` (name -> record of ``sub``), ``records`` (list
    of records of ``sub``, sorted by the unique sub-key ``sort_by``).
    """
    type: str
    default: Any = _REQUIRED
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    choices: tuple = ()
    pow2: bool = False
    multiple_of: int = 1
    sub: Mapping[str, Key] | None = None
    name_re: str = ""
    reserved: tuple = ()
    count: tuple[int, int] = (0, 2**31)
    sort_by: str = ""


def _int(default, lo, hi, **kw):
    return Key("int", default, lo, hi, **kw)


def _float(default, lo, hi, **kw):
    return Key("float", default, lo, hi, **kw)


def _choice(default, *choices):
    return Key("choice", default, choices=choices)


_SYSCALL = {
    "weight": _float(_REQUIRED, 0, 1e9, lo_open=True),
    "payload": _choice("none", "string", "buffer", "none"),
    "len_median": _float(1.0, 1, 1 << 20),   # ignored for "none", still checked
    "len_sigma": _float(0.0, 0, 10),
}

def _default_mix() -> dict:
    """The default ``workload.syscalls``: ``fastring fit`` of a real capture
    shipped in the package (fastring/data/default_mix.toml says which)."""
    from fastring.data import DEFAULT_MIX
    with open(DEFAULT_MIX, "rb") as fh:
        return tomllib.load(fh)["workload"]["syscalls"]


_DEFAULT_MIX = _default_mix()

_INJECT = {
    "event": _int(_REQUIRED, 0, 2**63 - 1),
    "kind": _choice(_REQUIRED, "minor", "major"),
    "delay_ns": _int(_REQUIRED, 0, 10**13),
}

_STRATEGY = {   # the program's steps are parsed elsewhere; only the shape here
    "program": Key("program"),
    "description": Key("str", ""),
}

#: section -> {key -> Key} (a fixed section), or a Key (the section is one
#: value: a table of user-defined entries).
SCHEMA: dict[str, dict[str, Key] | Key] = {
    "run": {
        "seed": _int(1, 0, 2**63 - 1),
        "events": _int(1_000_000, 0, 2**40),
        "strategies": Key("names", list(BUILTIN_STRATEGIES)),
        "chunk_events": _int(65536, 1, 2**24),
    },
    "machine": {
        "n_cpus": _int(4, 1, 1024),
        "tasks_per_cpu": _int(4, 1, 4096),
        "timeslice_ns": _int(3_000_000, 1, 10**12),
        "p_migrate": _float(0.1, 0, 1),
    },
    "tracer": {
        "preset": _choice("lttng-modules", *_presets.NAMES),
    },
    "buffer": {
        "subbuf_size": _int(65536, 256, 2**30, pow2=True),
        "n_subbuf": _int(4, 2, 2**16, pow2=True),
        "mode": _choice("discard", "discard", "overwrite"),
        "header_size": _int(40, 40, 4096, multiple_of=8),  # and < subbuf_size
        "payload": _choice("bytes", "bytes", "sizes"),     # model.buffer.PAYLOAD_MODES
    },
    "reader": {
        "period_ns": _int(100_000, 1, 10**12),
        "bytes_per_ns": _float(1.0, 0, 1e6, lo_open=True),
        "verify": Key("bool", True),
    },
    "workload": {
        "source": _choice("synthetic", "synthetic", "trace"),
        "trace": Key("str", ""),                    # an strace capture
        "trace_loops": _int(1, 1, 1 << 20),
        "trace_skip_bad": Key("bool", False),
        "capture": _choice("full", *_capture.POLICIES),
        "replace_mix": Key("bool", False),          # syscalls replace the default mix
        "think_ns": _float(10000.0, 0, 1e12),        # mean of an exponential
        "capture_max": _int(4096, 0, 1 << 20),      # default: by capture policy
        "user_pages": _int(4096, 1, 1 << 22),
        "working_set_pages": _int(64, 1, 1 << 22),  # and <= user_pages
        "syscalls": Key("table", _DEFAULT_MIX, sub=_SYSCALL, count=(1, 255),
                        name_re=r"[A-Za-z_][A-Za-z0-9_]*"),
    },
    "faults": {
        "model": _choice("bernoulli", "bernoulli", "residency"),
        # p_minor + p_major <= 1. Per page a syscall's captured argument
        # spans, measured on real programs by benchmarks/fault_rates.py
        # (results/fault_rates/fault_rates.json "defaults"): minor, the warm
        # median across 5 programs; major, none in ~1e6 warm pages, so the
        # 3/N upper bound. tests/test_fault_rates.py keeps them equal.
        "p_minor": _float(5.7e-4, 0, 1),
        "p_major": _float(2.9e-6, 0, 1),
        "residency_ns": _float(1e9, 0, 1e15, lo_open=True),
        "p_major_given_missing": _float(0.01, 0, 1),
        # medians of lognormals: measured on the dev machines by
        # benchmarks/fault_service.c (a page-cache page mapped fresh: 1.7 us;
        # a page dropped with POSIX_FADV_DONTNEED, read from the virtio
        # disk: 53 us, p90 65-85 us, so sigma ~0.3); see results/README.md
        "minor_ns": _float(1700.0, 0, 1e12),
        "major_ns": _float(53_000.0, 0, 1e12),
        "sigma": _float(0.3, 0, 10),
        # reclaim under memory pressure: mean time a page an event touched
        # stays before kswapd/direct reclaim evicts it again (0: no reclaim)
        "reclaim_ns": _float(0.0, 0, 1e12),
        "inject": Key("records", [], sub=_INJECT, sort_by="event"),
    },
    "live": {                                        # fastring live only
        "allow_unsafe": Key("bool", False),          # admit commit_unsafe
        "faults": _choice("inject", "inject", "real"),
        "p_preempt": _float(0.01, 0, 1),            # per preemptible step
        "drop_pages_per_s": _float(2000.0, 0, 1e9),  # faults = "real"
        "timeout_s": _float(60.0, 0, 1e6, lo_open=True),  # no progress: stop
    },
    "costs": {
        "profile": Key("str", "default"),           # checked by load_profile
        # per-primitive overrides, in ns
        **{k: _float(_OPTIONAL, 0, _costs.COST_MAX_NS) for k in _costs.COST_KEYS},
    },
    "strategies": Key("table", {}, sub=_STRATEGY, name_re=r"[a-z_][a-z0-9_]*",
                      reserved=BUILTIN_STRATEGIES),
}


def _defaults() -> dict:
    """A fresh copy of the defaults, built from the schema (so that code
    mutating the public :data:`DEFAULTS` cannot change what :func:`load` does)."""
    return {sec: copy.deepcopy(spec.default) if isinstance(spec, Key) else
            {k: copy.deepcopy(s.default) for k, s in spec.items()
             if s.default is not _OPTIONAL}
            for sec, spec in SCHEMA.items()}


DEFAULTS = _defaults()


# --------------------------------------------------------------- checking

def _fmt(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _describe(s: Key) -> str:
    """What the key allows, in words, for error messages."""
    if s.type in ("int", "float"):
        what = "an integer" if s.type == "int" else "a number"
        if s.pow2:
            what = "a power of two"
        if s.multiple_of > 1:
            what += f" multiple of {s.multiple_of}"
        if s.hi is None:
            return f"{what} {'>' if s.lo_open else '>='} {_fmt(s.lo)}"
        return f"{what} in {'(' if s.lo_open else '['}{_fmt(s.lo)}, {_fmt(s.hi)}]"
    return {
        "bool": "true or false",
        "str": "a string",
        "choice": "one of " + ", ".join(map(repr, s.choices)),
        "names": "a non-empty list of distinct strategy names",
        "program": "a non-empty list of non-empty strings",
        "table": "a table of name -> table",
        "records": "a list of tables",
    }[s.type]


def _bad(path: str, s: Key, v, show_type: bool = False) -> ConfigError:
    got = f"{v!r} ({type(v).__name__})" if show_type else repr(v)
    return ConfigError(f"{path}: must be {_describe(s)}, got {got}")


def _is_list(v) -> bool:
    return isinstance(v, (list, tuple))


def _plain(v):
    """A NumPy scalar as the Python value it holds (``np.int64(3)`` is 3,
    ``np.bool_(True)`` is True), so NumPy numbers pass wherever Python's do;
    anything else unchanged."""
    return v.item() if isinstance(v, (np.number, np.bool_)) else v


def _check(path: str, v, s: Key):
    """Check one value against its Key; return the normalized value."""
    t = s.type
    v = _plain(v)
    if t in ("int", "float"):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _bad(path, s, v, show_type=True)
        if t == "int":
            if isinstance(v, float):
                if not v.is_integer():
                    raise _bad(path, s, v, show_type=True)
                v = int(v)
        else:
            try:
                v = float(v)
            except OverflowError:
                raise _bad(path, s, v) from None
            if not math.isfinite(v):
                raise _bad(path, s, v)
        ok = ((v > s.lo if s.lo_open else v >= s.lo)
              and (s.hi is None or v <= s.hi)
              and (not s.pow2 or (v > 0 and v & (v - 1) == 0))
              and (s.multiple_of == 1 or v % s.multiple_of == 0))
        if not ok:
            raise _bad(path, s, v)
        return v
    if t == "bool":
        if not isinstance(v, bool):
            raise _bad(path, s, v, show_type=True)
        return v
    if t == "str":
        if not isinstance(v, str):
            raise _bad(path, s, v, show_type=True)
        return v
    if t == "choice":
        if v not in s.choices or not isinstance(v, str):
            raise _bad(path, s, v)
        return v
    if t in ("names", "program"):
        if not _is_list(v) or not v:
            raise _bad(path, s, v)
        for i, item in enumerate(v):
            if not isinstance(item, str) or not item:
                raise ConfigError(f"{path}[{i}]: must be a non-empty string, "
                                  f"got {item!r}")
            if t == "names" and item in v[:i]:
                raise ConfigError(f"{path}[{i}]: duplicate strategy {item!r}")
        return list(v)
    if t == "table":
        return _check_table(path, v, s)
    if t == "records":
        return _check_records(path, v, s)
    raise AssertionError(f"schema: unknown type {t!r} for {path}")


def _check_record(path: str, v, schema: Mapping[str, Key], fill: bool) -> dict:
    """Check a table with fixed keys. ``fill``: missing keys take their
    defaults (sub-tables); otherwise every key with a default must be present
    (a complete config given to :func:`validate`)."""
    if not isinstance(v, Mapping):
        raise ConfigError(f"{path}: must be a table, got {v!r}")
    for k in v:
        if k not in schema:
            raise ConfigError(f"{path}.{k}: unknown key; known keys: "
                              f"{', '.join(schema)}")
    out = {}
    for k, s in schema.items():
        if k in v:
            out[k] = _check(f"{path}.{k}", v[k], s)
        elif s.default is _OPTIONAL:
            continue
        elif fill and s.default is not _REQUIRED:
            out[k] = copy.deepcopy(s.default)
        else:
            raise ConfigError(f"{path}.{k}: missing; must be {_describe(s)}")
    return out


def _check_table(path: str, v, s: Key) -> dict:
    """name -> record; returned sorted by name (see the module docstring)."""
    if not isinstance(v, Mapping):
        raise _bad(path, s, v)
    lo, hi = s.count
    if not lo <= len(v) <= hi:
        raise ConfigError(f"{path}: must have {lo} to {hi} entries, "
                          f"got {len(v)}")
    for name in v:
        if not isinstance(name, str) or not re.fullmatch(s.name_re, name):
            raise ConfigError(f"{path}: name {name!r} must match {s.name_re}")
        if name in s.reserved:
            raise ConfigError(f"{path}.{name}: must not shadow a built-in "
                              f"({', '.join(s.reserved)})")
    return {name: _check_record(f"{path}.{name}", v[name], s.sub, fill=True)
            for name in sorted(v)}


def _check_records(path: str, v, s: Key) -> list:
    """A list of records, sorted by the unique key ``s.sort_by``."""
    if not _is_list(v):
        raise _bad(path, s, v)
    recs = [(_check_record(f"{path}[{i}]", r, s.sub, fill=True), i)
            for i, r in enumerate(v)]
    recs.sort(key=lambda ri: ri[0][s.sort_by])
    for (a, i), (b, j) in zip(recs, recs[1:]):
        if a[s.sort_by] == b[s.sort_by]:
            raise ConfigError(f"{path}[{j}].{s.sort_by}: duplicate "
                              f"{s.sort_by} {b[s.sort_by]} (also in {path}[{i}])")
    return [r for r, _ in recs]


def _check_whole(cfg: dict) -> None:
    """Constraints between keys, or on the outside world, checked once every
    key is valid on its own."""
    b, w, f = cfg["buffer"], cfg["workload"], cfg["faults"]
    if b["header_size"] >= b["subbuf_size"]:
        raise ConfigError(f"buffer.header_size: must be < buffer.subbuf_size "
                          f"({b['subbuf_size']}), got {b['header_size']}")
    if w["working_set_pages"] > w["user_pages"]:
        raise ConfigError(f"workload.working_set_pages: must be in [1, "
                          f"workload.user_pages ({w['user_pages']})], "
                          f"got {w['working_set_pages']}")
    if w["capture_max"] > w["user_pages"] * 4096:
        raise ConfigError(f"workload.capture_max: must be <= workload.user_pages "
                          f"* 4096 = {w['user_pages'] * 4096} (a payload is read "
                          f"from user memory), got {w['capture_max']}")
    if f["p_minor"] + f["p_major"] > 1 + 1e-12:
        raise ConfigError(f"faults.p_major: faults.p_minor + faults.p_major "
                          f"must be <= 1, got {f['p_minor']} + {f['p_major']}")
    known = (*BUILTIN_STRATEGIES, *cfg["strategies"])
    for i, name in enumerate(cfg["run"]["strategies"]):
        if name not in known:
            raise ConfigError(f"run.strategies[{i}]: unknown strategy {name!r}; "
                              f"known: {', '.join(known)}")
    if w["source"] == "trace":
        _layers.check_trace(cfg)
    from fastring.sim import estimate as _estimate  # imports the engine: lazily
    problem = _estimate.read_time_problem(cfg) or _estimate.clock_problem(
        cfg, resolved_costs(cfg))        # resolved_costs: the profile reads
    if problem:
        raise ConfigError(problem)


def validate(cfg: Mapping) -> dict:
    """Check a complete nested config; return a normalized copy.

    Missing keys are errors here (:func:`load` fills them from the defaults).
    """
    if not isinstance(cfg, Mapping):
        raise ConfigError(f"config: must be a table of sections, got {cfg!r}")
    for sec in cfg:
        if sec not in SCHEMA:
            raise ConfigError(f"{sec}: unknown section; known sections: "
                              f"{', '.join(SCHEMA)}")
    out = {}
    for sec, spec in SCHEMA.items():
        if sec not in cfg:
            raise ConfigError(f"{sec}: missing section")
        out[sec] = (_check(sec, cfg[sec], spec) if isinstance(spec, Key) else
                    _check_record(sec, cfg[sec], spec, fill=False))
    _check_whole(out)
    return out


# ---------------------------------------------------------------- loading

def _read_toml(path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"config file {os.fspath(path)!r}: cannot read: "
                          f"{exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {os.fspath(path)!r}: invalid TOML: "
                          f"{exc}") from None


def _merge(dst: dict, src: Mapping) -> None:
    """Merge ``src`` into ``dst`` in place: tables key by key, the rest replaces."""
    for k, v in src.items():
        if isinstance(v, Mapping) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)


def _apply_override(cfg: dict, item) -> None:
    if not isinstance(item, str) or "=" not in item:
        raise ConfigError(f"override {item!r}: expected 'section.key=value'")
    key, _, text = item.partition("=")
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"override {item!r}: bad dotted key {key.strip()!r}")
    value = _parse_value(text.strip())
    node = cfg
    for i, part in enumerate(parts[:-1]):
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{'.'.join(parts[:i + 1])}: is not a table "
                              f"(it is {node!r}); cannot set {key.strip()}")
    last = parts[-1]
    if (len(parts) == 1 and isinstance(SCHEMA.get(last), dict)
            and isinstance(value, dict) and isinstance(node.get(last), dict)):
        _merge(node[last], value)      # a whole fixed section merges
    else:
        node[last] = value             # any other value, tables too, replaces


def _is_complete(source: Mapping) -> bool:
    """Does ``source`` give every section and key (a config :func:`load` made)?
    Such a config is taken as it is: merging it into the defaults again would
    add the default syscall kinds to its mix."""
    defaults = _defaults()
    return set(source) == set(defaults) and all(
        isinstance(source[sec], Mapping) and set(source[sec]) >= set(defaults[sec])
        for sec in defaults if isinstance(defaults[sec], dict) and defaults[sec])


def load(source=None, overrides: Iterable[str] = ()) -> dict:
    """Defaults, then the preset ``tracer.preset`` names, then ``source``
    (None, a partial nested dict or a TOML file path), then ``overrides``
    (``"section.key=value"`` strings); validated and normalized. Keys set by
    the source or the overrides win over the preset. The inputs are not
    mutated."""
    cfg = _defaults()
    overrides = [overrides] if isinstance(overrides, str) else list(overrides)
    if isinstance(source, (str, os.PathLike)):
        source = _read_toml(source)
    complete = False
    if source is not None:
        if not isinstance(source, Mapping):
            raise ConfigError(f"config: source must be None, a table or a "
                              f"TOML file path, got {source!r}")
        complete = _is_complete(source)
        if complete:
            cfg = copy.deepcopy(dict(source))   # already loaded: load(load(x)) == load(x)
        else:
            if _layers.replaces_mix(source, overrides):
                cfg["workload"]["syscalls"] = {}
            _merge(cfg, source)
    for item in overrides:
        _apply_override(cfg, item)
    explicit = _layers.explicit(None if complete else source, overrides)
    if not complete:
        _layers.apply_preset(cfg, explicit)
    _layers.derive(cfg, explicit, complete)
    return validate(cfg)


# ---------------------------------------------------------------- output

def resolved_costs(cfg: Mapping) -> dict[str, float]:
    """The cost profile named by ``costs.profile``, with the per-primitive
    overrides of the ``costs`` section applied (ns)."""
    c = cfg["costs"]
    try:
        out = _costs.load_profile(c["profile"])
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    out.update({k: float(c[k]) for k in _costs.COST_KEYS if k in c})
    return out


def flatten(cfg: Mapping) -> dict[str, object]:
    """``{"section.key": value}``, one entry per scalar leaf: the columns of the
    ``runs`` table. Lists and tables (``run.strategies``, ``workload.syscalls``,
    ``faults.inject``, the ``strategies`` section) become sorted-key JSON
    strings under their dotted key, so every column has one scalar type.
    Order: sections, then keys, as in :data:`DEFAULTS`; extra keys sorted."""
    def leaf(v):
        return json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else v

    out = {}
    for sec in [*SCHEMA, *sorted(set(cfg) - set(SCHEMA))]:
        if sec not in cfg:
            continue
        val = cfg[sec]
        if not isinstance(SCHEMA.get(sec), dict) or not isinstance(val, Mapping):
            out[sec] = leaf(val)
            continue
        known = [k for k, s in SCHEMA[sec].items()
                 if k in val and s.default is not _OPTIONAL]
        for k in [*known, *sorted(set(val) - set(known))]:
            out[f"{sec}.{k}"] = leaf(val[k])
    return out


def to_json(cfg: Mapping) -> str:
    """The config as sorted-key JSON: the schema metadata of every table."""
    return json.dumps(cfg, sort_keys=True)

