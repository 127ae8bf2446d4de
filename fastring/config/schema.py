"""The config's keys: :data:`SCHEMA` (type, range, default of every key),
:data:`DEFAULTS` built from it, and the checks of one value against its key.

Every key is a :class:`Key`; the checks here look at one key at a time
(constraints between keys are in :mod:`fastring.config.checks`). Every
:class:`~fastring.errors.ConfigError` names the dotted key, what is allowed
and the value given.
"""
from __future__ import annotations

import copy
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..model import strategies as _strategies
from ..world import capture as _capture
from ..world import costs as _costs
from ..world import presets as _presets

#: the built-in strategies' names (their home is :mod:`fastring.model.strategies`)
BUILTIN_STRATEGIES = _strategies.NAMES

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

_STRATEGY = {   # the steps are checked by the compiler (config.checks)
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


def defaults() -> dict:
    """A fresh copy of the defaults, built from the schema (so that code
    mutating the public :data:`DEFAULTS` cannot change what ``load`` does)."""
    return {sec: copy.deepcopy(spec.default) if isinstance(spec, Key) else
            {k: copy.deepcopy(s.default) for k, s in spec.items()
             if s.default is not _OPTIONAL}
            for sec, spec in SCHEMA.items()}


DEFAULTS = defaults()


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


def check_record(path: str, v, schema: Mapping, fill: bool) -> dict:
    """Check a table with fixed keys: a record (``schema``: key -> Key) or,
    with ``path`` empty, the whole config (``SCHEMA``: sections, each a Key
    or a record). ``fill``: missing keys take their defaults (sub-tables);
    otherwise every key with a default must be present (a complete config)."""
    what = "key" if path else "section"
    if not isinstance(v, Mapping):
        raise ConfigError(f"{path or 'config'}: must be a table"
                          f"{'' if path else ' of sections'}, got {v!r}")
    for k in v:
        if k not in schema:
            raise ConfigError(f"{path}{'.' if path else ''}{k}: unknown {what}; "
                              f"known {what}s: {', '.join(schema)}")
    out = {}
    for k, s in schema.items():
        sub = f"{path}.{k}" if path else k
        if k in v:
            out[k] = (_check(sub, v[k], s) if isinstance(s, Key) else
                      check_record(sub, v[k], s, fill))
        elif not isinstance(s, Key):
            raise ConfigError(f"{sub}: missing section")
        elif s.default is _OPTIONAL:
            continue
        elif fill and s.default is not _REQUIRED:
            out[k] = copy.deepcopy(s.default)
        else:
            raise ConfigError(f"{sub}: missing; must be {_describe(s)}")
    return out


def _check_table(path: str, v, s: Key) -> dict:
    """name -> record; returned sorted by name (the kinds' order indexes the
    engine's arrays, and sorting makes a config read back from its JSON run
    exactly as the original)."""
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
    return {name: check_record(f"{path}.{name}", v[name], s.sub, fill=True)
            for name in sorted(v)}


def _check_records(path: str, v, s: Key) -> list:
    """A list of records, sorted by the unique key ``s.sort_by``."""
    if not _is_list(v):
        raise _bad(path, s, v)
    recs = [(check_record(f"{path}[{i}]", r, s.sub, fill=True), i)
            for i, r in enumerate(v)]
    recs.sort(key=lambda ri: ri[0][s.sort_by])
    for (a, i), (b, j) in zip(recs, recs[1:]):
        if a[s.sort_by] == b[s.sort_by]:
            raise ConfigError(f"{path}[{j}].{s.sort_by}: duplicate "
                              f"{s.sort_by} {b[s.sort_by]} (also in {path}[{i}])")
    return [r for r, _ in recs]
