"""Run every measurement (:func:`measure`) and write or print the result as
a cost profile (:func:`write_profile`, :func:`format_table`)."""
from __future__ import annotations

import math
import time
from pathlib import Path

from fastring import _toml
from fastring.world import costs

from .atomics import measure_clock_and_cs, measure_contended, measure_counters
from .guards import CalibrationError, check_atomic_asm
from .host import cpu_seconds, host
from .memory import (measure_copy_user_cold, measure_malloc,
                     measure_memcpy_hot, measure_minor_fault)
from .sched import measure_context_switch

# What each measured key stands for (printed in the table and the file).
_WHAT = {
    "local_add": "relaxed load+add+store of an int64 (no lock)",
    "atomic_add": "lock add, one thread",
    "atomic_add_contended": "lock add on one int64 another thread hammers",
    "local_cmpxchg": "plain load, compare, store (no cmpxchg, no lock)",
    "atomic_cmpxchg": "lock cmpxchg, one thread",
    "memcpy_call": "libc memcpy, fixed part of the fit 16 B-4 KiB, in cache",
    "memcpy_byte": "libc memcpy, per byte of the fit, in cache",
    "copy_user_call": "memcpy from a line of an arena far larger than the "
                      "LLC into a cached buffer, fixed part of the fit",
    "copy_user_byte": "the same cold copy, per byte of the fit 16 B-4 KiB",
    "kmalloc_kfree": "libc malloc(256)+free, same thread",
    "clock_read": "clock_gettime(CLOCK_MONOTONIC) (vDSO)",
    "cs_count_read": "relaxed load of a per-CPU int64 slot "
                     "(as nr_context_switches_cpu())",
}

_NOT_MEASURABLE = {
    "preempt_off": "kernel-only (preempt_disable), no user-space analogue",
    "preempt_on": "kernel-only (preempt_enable), no user-space analogue",
    "migrate_off": "kernel-only (migrate_disable), no user-space analogue",
    "migrate_on": "kernel-only (migrate_enable), no user-space analogue",
    "copy_from_user_extra": "kernel-only (access_ok, STAC/CLAC)",
    "strnlen_byte": "strnlen_user is kernel-only; not measured",
}


def measure(repeats: int | None = None, quick: bool = False) -> dict:
    """Measure the host's primitive costs. Returns a structured dict:

    ``costs``       ``{cost key: stats}`` for measured keys of
                    :data:`fastring.costs.COST_KEYS`
    ``measured``    ``{name: stats}`` for extra figures (minor fault, hot
                    and cold copies per size, malloc sizes and cross-thread,
                    getrusage, ...), not part of the cost profile
    ``unmeasured``  ``{cost key: reason}`` for keys left to the default
    ``asm``         what the lock-prefix check found (x86_64)
    ``notes``       list of remarks; ``host`` host description;
    ``params``      repeats, quick, elapsed seconds

    where stats is ``{"median", "p25", "p75", "min", "max", "repeats"}``
    in ns (plus ``"what"`` for ``measured`` entries). ``quick`` takes fewer,
    shorter runs and a smaller out-of-cache arena.
    """
    if repeats is None:
        repeats = 7 if quick else 31
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    target = 300_000.0 if quick else 2_000_000.0   # ns per run
    t_start = time.perf_counter()
    res = {"costs": {}, "measured": {}, "unmeasured": dict(_NOT_MEASURABLE),
           "asm": {}, "notes": [], "host": host(),
           "params": {"repeats": repeats, "quick": bool(quick)}}
    busy0 = cpu_seconds()
    try:
        res["asm"] = check_atomic_asm()
    except NotImplementedError as exc:
        res["notes"].append(str(exc))
    measure_counters(repeats, target, res)
    measure_contended(repeats, target, res)
    measure_clock_and_cs(repeats, target, res)
    measure_malloc(repeats, target, res)
    measure_memcpy_hot(repeats, target, res)
    measure_copy_user_cold(repeats, target, quick, res)
    measure_minor_fault(repeats, quick, res)
    measure_context_switch(repeats, quick, res)
    for key, st in res["costs"].items():
        if key not in costs.COST_KEYS:
            raise CalibrationError(f"internal: {key} is not a cost key")
        if not (math.isfinite(st["median"]) and st["median"] >= 0):
            raise CalibrationError(f"{key}: bad measurement {st}")
        st.setdefault("what", _WHAT.get(key, ""))
    wall = time.perf_counter() - t_start
    res["params"]["elapsed_s"] = round(wall, 3)
    busy1 = cpu_seconds()
    if busy0 is not None and busy1 is not None and wall > 0:
        others = ((busy1[0] - busy0[0]) - (busy1[1] - busy0[1])) / wall
        res["host"]["other_load_cpus"] = round(max(others, 0.0), 2)
        if others > 0.25:
            res["notes"].append(
                f"other processes kept {others:.2f} CPUs busy on average "
                f"during calibration: figures may be inflated and spread "
                f"wide; rerun on an idle host for a clean profile")
    return res


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def _spread_inline(st: dict) -> str:
    return "{ " + ", ".join(f"{k} = {_toml.value(st[k])}" for k in
                            ("p25", "p75", "min", "max", "repeats")) + " }"


def write_profile(results: dict, path) -> Path:
    """Write ``results`` (from :func:`measure`) as a cost profile TOML file
    (:func:`fastring.world.costs.save_profile`, the one writer of the format).

    ``[costs]`` holds the medians (ns) of the measured cost keys, in
    :data:`fastring.costs.COST_KEYS` order; keys not measured are listed in a
    comment (their defaults apply). ``[spread]``, ``[measured]`` and
    ``[host]`` are informational. The file is written under a temporary name
    and renamed into place when complete.
    """
    measured = results.get("costs", {})
    params = results.get("params", {})
    header = ["fastring cost profile measured by `fastring calibrate` "
              f"(repeats={params.get('repeats')}, "
              f"quick={str(params.get('quick', False)).lower()}).",
              "Load it with costs.profile = \"<this file>\". Values are "
              "medians in ns.", ""]
    tail = ["", "[spread]",
            "# Spread of the runs behind each median (ns): inter-quartile "
            "range, min, max."]
    tail += [f"{k} = {_spread_inline(measured[k])}"
             for k in costs.COST_KEYS if k in measured]
    extra = results.get("measured", {})
    tail += [f"{name} = {_spread_inline(st)}" for name, st in extra.items()]
    if extra:
        tail += ["", "[measured]",
                 "# Medians (ns) of figures that are not cost-profile keys. "
                 "minor_fault belongs to", "# faults.minor_ns of a run "
                 "config."]
        for name, st in extra.items():
            what = st.get("what", "")
            tail.append(f"{name} = {_toml.value(float(st['median']))}"
                        + (f"  # {what}" if what else ""))
    tail += ["", "[host]"]
    host = dict(results.get("host", {}))
    if "elapsed_s" in params:
        host["calibration_s"] = params["elapsed_s"]
    tail += [f"{k} = {_toml.value(v)}" for k, v in host.items()]
    return costs.save_profile(
        path, {k: float(st["median"]) for k, st in measured.items()},
        header=header, tail=tail,
        notes={k: st.get("what") or _WHAT.get(k, "") for k, st in measured.items()},
        reasons=results.get("unmeasured", {}))


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.1:
        return f"{v:.2f}"
    return f"{v:.4f}"


def format_table(results: dict) -> str:
    """The measured figures as a text table: median, spread (p25-p75 and
    min-max), the built-in default beside it and the ratio measured/default;
    then the extra figures and the keys left to their default."""
    rows = [("cost key", "median ns", "p25-p75", "min-max", "default",
             "ratio")]
    for k in costs.COST_KEYS:
        st = results.get("costs", {}).get(k)
        if st is None:
            continue
        d = costs.DEFAULT[k]
        rows.append((k, _fmt(st["median"]),
                     f"{_fmt(st['p25'])}-{_fmt(st['p75'])}",
                     f"{_fmt(st['min'])}-{_fmt(st['max'])}", _fmt(d),
                     f"{st['median'] / d:.2f}x" if d else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(r):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths)))
    out = [line(rows[0]), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in rows[1:]]
    extra = results.get("measured", {})
    if extra:
        out += ["", "other figures (not cost keys):"]
        erows = [(n, _fmt(st["median"]),
                  f"{_fmt(st['p25'])}-{_fmt(st['p75'])}",
                  f"{_fmt(st['min'])}-{_fmt(st['max'])}", st.get("what", ""))
                 for n, st in extra.items()]
        ew = [max(len(r[i]) for r in erows) for i in range(4)]
        for r in erows:
            out.append("  ".join([r[0].ljust(ew[0])]
                                 + [r[i].rjust(ew[i]) for i in (1, 2, 3)]
                                 + [r[4]]))
    unmeasured = [k for k in costs.COST_KEYS
                  if k not in results.get("costs", {})]
    if unmeasured:
        out += ["", "left to the default (not measured): "
                + ", ".join(unmeasured)]
    for note in results.get("notes", []):
        out.append(f"note: {note}")
    return "\n".join(out)
