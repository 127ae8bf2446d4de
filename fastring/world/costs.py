"""Cost profiles: what each primitive step of a probe costs, in nanoseconds.

A profile is a flat mapping ``name -> ns`` (floats: sub-nanosecond primitives
such as a local add must add up without rounding to zero). The engine converts
it once to integer picoseconds (:func:`to_ps`), its internal time unit.

The built-in ``default`` profile comes from published kernel figures (the
"Figures from outside" of the model description, see ``docs/model.md``) and
from this project's own calibration (``results/calibration/host.toml``, made
by ``fastring calibrate`` on a 2-core AMD EPYC VM); every entry names its
source in :data:`SOURCES`. No entry is fitted to the real-tracer figures the
model is checked against (``fastring.tracers``). ``fastring calibrate`` writes a
profile measured on the host, which ``costs.profile = "FILE.toml"`` loads.

The profile file format is read and written here, and nowhere else:
:func:`load_profile` reads it, :func:`profile_text` / :func:`save_profile`
write it (a ``[costs]`` table of ``name = ns``, floats written so that they
read back bit for bit).
"""
from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .. import _toml
from ..io.atomic import write_atomic

# Order matters: it is the layout of the int64 cost vector the kernels index.
COST_KEYS = (
    "clock_read",            # record timestamp (clock_gettime / trace clock)
    "local_add",             # per-CPU commit count add (no lock prefix)
    "atomic_add",            # lock add, uncontended
    "atomic_add_contended",  # lock add on a cache line another CPU writes
    "local_cmpxchg",         # reserve on the own CPU buffer (no lock prefix)
    "atomic_cmpxchg",        # reserve with lock cmpxchg (lttng-ust)
    "preempt_off",           # preempt_disable()
    "preempt_on",            # preempt_enable()
    "migrate_off",           # migrate_disable()
    "migrate_on",            # migrate_enable()
    "memcpy_call",           # fixed cost of one hot kernel memcpy call
    "memcpy_byte",           # hot kernel memcpy per byte (cached buffers)
    "copy_from_user_extra",  # copy_from_user over memcpy: access_ok, STAC/CLAC
    "strnlen_byte",          # strnlen_user per byte
    "kmalloc_kfree",         # kmalloc + kfree pair, SLUB fast path
    "cs_count_read",         # read this CPU's context-switch count
    "context_switch",        # the scheduler switching tasks on a CPU
    "copy_user_call",        # fixed cost of one copy from uncached user memory
    "copy_user_byte",        # that cold user copy per byte
)

DEFAULT = {
    "clock_read": 20.0,
    "local_add": 0.3,
    "atomic_add": 5.0,
    "atomic_add_contended": 15.0,
    "local_cmpxchg": 2.1,
    "atomic_cmpxchg": 4.6,
    "preempt_off": 1.0,
    "preempt_on": 1.0,
    "migrate_off": 2.0,
    "migrate_on": 2.0,
    "memcpy_call": 1.1,
    "memcpy_byte": 0.0073,
    "copy_from_user_extra": 10.0,
    "strnlen_byte": 0.25,
    "kmalloc_kfree": 11.0,
    "cs_count_read": 0.18,
    "context_switch": 1500.0,
    "copy_user_call": 179.0,
    "copy_user_byte": 0.054,
}

_CAL = ("fastring calibrate, results/calibration/host.toml (AMD EPYC, 2 "
        "cores, Linux 6.18, shared host, 31 runs)")

SOURCES = {
    "clock_read": "clock_gettime ~20 ns on the 2-core dev machines",
    "local_add": "local add ~1 cycle (0.3 ns at ~3 GHz)",
    "atomic_add": "lock add ~5 ns uncontended, dev machines",
    "atomic_add_contended": "lock add ~15 ns contended, dev machines",
    "local_cmpxchg": "unlocked cmpxchg 2.1 ns, dev machines",
    "atomic_cmpxchg": "locked cmpxchg 4.6 ns, dev machines",
    "preempt_off": "preempt_disable+enable 0.4-4.3 ns: ~1 ns each",
    "preempt_on": "preempt_disable+enable 0.4-4.3 ns: ~1 ns each",
    "migrate_off": "no published figure: assumed 2x a preempt toggle "
                   "(migrate_disable also touches the task struct)",
    "migrate_on": "no published figure: assumed 2x a preempt toggle",
    "memcpy_call": f"{_CAL}: libc memcpy 16 B-4 KiB in L1, fixed part of "
                   f"the fit (median 1.10 ns, p25-p75 1.10-1.11)",
    "memcpy_byte": f"{_CAL}: the same fit, per byte (median 0.0073 ns/B, "
                   f"p25-p75 0.0073-0.0073)",
    "copy_from_user_extra": "assumed ~10 ns: access_ok + STAC/CLAC + "
                            "exception-table setup (not measured yet: "
                            "kernel-only)",
    "strnlen_byte": "ftrace ~290 ns for a 128-byte string event: at most "
                    "~1 ns/B overall; assumed 0.25 ns/B for the scan "
                    "(not measured yet: kernel-only)",
    "kmalloc_kfree": "SLUB kmalloc+kfree fast path ~11 ns",
    "cs_count_read": f"{_CAL}: relaxed load of a per-CPU int64 slot "
                     f"(median 0.18 ns, p25-p75 0.11-0.33)",
    "context_switch": "assumed 1.5 us for a switch between tasks "
                      "(typical lmbench lat_ctx order). fastring calibrate "
                      "measures it (pipe ping-pong on one CPU); on the shared "
                      "dev machine under a load of ~7 it gave 1.9-8 us "
                      "(median 7.3): too spread to adopt",
    "copy_user_call": f"{_CAL}: memcpy from scattered lines of a 256 MiB "
                      f"arena (8x the 32 MiB L3) into a cached buffer, "
                      f"fixed part of the fit 16 B-4 KiB: one DRAM miss "
                      f"(median 178.9 ns, p25-p75 174.1-185.7)",
    "copy_user_byte": f"{_CAL}: the same cold fit, per byte (median "
                      f"0.054 ns/B, p25-p75 0.051-0.060)",
}

BUILTIN = {"default": DEFAULT}

#: the largest cost a profile or an override may give one primitive (ns): a
#: second per step is far beyond any real primitive, and keeps every sum of
#: costs far from the int64 picosecond clock's limit
COST_MAX_NS = 1e9


def cost_problem(key: str, value) -> str | None:
    """Why ``value`` is not a valid cost for ``key`` (None if it is)."""
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or not 0 <= value <= COST_MAX_NS):
        return (f"{key} must be a number of ns in [0, {COST_MAX_NS:g}], "
                f"got {value!r}")
    return None


def load_profile(profile: str) -> dict[str, float]:
    """Return the profile named ``profile``: a built-in name or a TOML file.

    A file holds a ``[costs]`` table (``fastring calibrate`` also writes a
    ``[host]`` table, ignored here). Keys it omits keep the default value.
    """
    if profile in BUILTIN:
        return dict(BUILTIN[profile])
    path = Path(profile)
    if not path.is_file():
        raise ValueError(
            f"costs.profile: {profile!r} is neither a built-in profile "
            f"({', '.join(sorted(BUILTIN))}) nor a readable TOML file")
    where = f"costs.profile: {profile!r}"
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ValueError(f"{where}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: not UTF-8 text (byte {exc.object[exc.start]:#04x} "
                         f"at offset {exc.start}); a profile is a TOML file with "
                         f"a [costs] table of name = ns") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: invalid TOML: {exc}") from None
    table = data.get("costs", data)
    if not isinstance(table, dict):
        raise ValueError(f"{where}: [costs] must be a table of name = ns, "
                         f"got {table!r}")
    out = dict(DEFAULT)
    for key, value in table.items():
        if key not in out:
            raise ValueError(f"{where}: unknown cost costs.{key}; known: "
                             f"{', '.join(COST_KEYS)}")
        problem = cost_problem(f"costs.{key}", value)
        if problem:
            raise ValueError(f"{where}: {problem}")
        out[key] = float(value)
    return out


def profile_text(costs: Mapping[str, float], *, header: Sequence[str] = (),
                 notes: Mapping[str, str] | None = None,
                 reasons: Mapping[str, str] | None = None,
                 tail: Sequence[str] = ()) -> str:
    """``costs`` (a subset of :data:`COST_KEYS`, ns) as a profile file that
    :func:`load_profile` reads back exactly.

    ``header`` lines become comments; the keys left out are listed in a
    comment (their defaults apply) with ``reasons[key]``; ``[costs]`` holds
    the given keys in :data:`COST_KEYS` order, ``notes[key]`` as a trailing
    comment; ``tail`` lines (more tables, which :func:`load_profile` ignores)
    end the file. Raises ValueError on an unknown key or an invalid cost.
    """
    for key, value in costs.items():
        if key not in DEFAULT:
            raise ValueError(f"{key!r} is not a cost key "
                             f"(known: {', '.join(COST_KEYS)})")
        problem = cost_problem(key, value)
        if problem:
            raise ValueError(problem)
    notes, reasons = notes or {}, reasons or {}
    out = [f"# {line}" if line else "" for line in header]
    missing = [k for k in COST_KEYS if k not in costs]
    if missing:
        out.append("# Not measured (the built-in default applies):")
        out += [f"#   {k} = {DEFAULT[k]!r}  ({reasons.get(k, 'not measured')})"
                for k in missing]
        out.append("")
    out.append("[costs]")
    out += [f"{k} = {_toml.value(float(costs[k]))}"
            + (f"  # {notes[k]}" if notes.get(k) else "")
            for k in COST_KEYS if k in costs]
    return "\n".join([*out, *tail]) + "\n"


def save_profile(path, costs: Mapping[str, float], **text_args) -> Path:
    """Write :func:`profile_text` of ``costs`` to ``path``, whole or not at
    all (:mod:`fastring.io.atomic`); returns the path."""
    return write_atomic(path, profile_text(costs, **text_args))


def to_ps(costs: dict[str, float]) -> np.ndarray:
    """The int64 picosecond vector, in :data:`COST_KEYS` order, for the kernels."""
    return np.array([int(round(costs[k] * 1000.0)) for k in COST_KEYS],
                    dtype=np.int64)
