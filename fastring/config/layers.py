"""The layers of :func:`fastring.config.load` beyond the schema defaults:
the tracer preset under the user's keys, and the keys derived from others
(``workload.capture_max`` from the capture policy; with a replayed capture,
``run.events``, the tasks and the syscall kinds from the capture).

Which keys the user set decides what a preset or a derivation may fill in:
:func:`explicit` lists them from the source and the overrides.
"""
from __future__ import annotations

from collections.abc import Mapping

from fastring.world import capture as _capture
from fastring.world import presets as _presets
from fastring.errors import ConfigError


def explicit(source: Mapping | None, overrides: list) -> set[str]:
    """The ``section.key`` names that ``source`` and ``overrides`` (parsed:
    (dotted key split, value) pairs) set: these win over the preset and
    over values derived from other keys."""
    out = set()
    for sec, val in (source or {}).items():
        if isinstance(val, Mapping):
            out.update(f"{sec}.{k}" for k in val)
    for parts, value in overrides:
        if len(parts) >= 2:
            out.add(".".join(parts[:2]))
        elif isinstance(value, dict):
            out.update(f"{parts[0]}.{k}" for k in value)
    return out


def apply_preset(cfg: dict, explicit: set[str]) -> None:
    """Layer the preset named by ``tracer.preset`` under what the user set."""
    name = cfg.get("tracer", {}).get("preset") if isinstance(cfg.get("tracer"), dict) else None
    if name not in _presets.PRESETS:
        return                                  # validate() names the bad value
    for sec, keys in _presets.values(name).items():
        if isinstance(cfg.get(sec), dict):
            for k, v in keys.items():
                if f"{sec}.{k}" not in explicit:
                    cfg[sec][k] = v


def derive(cfg: dict, explicit: set[str], complete: bool) -> None:
    """Keys whose defaults follow other keys: ``workload.capture_max`` from
    the capture policy; with a trace, ``run.events``, the tasks and the
    syscall kinds come from the capture (setting them too is an error)."""
    w = cfg.get("workload")
    if not isinstance(w, dict):
        return
    policy = w.get("capture")
    if (policy in _capture.DEFAULT_MAX and "workload.capture_max" not in explicit
            and (not complete or "workload.capture" in explicit)):
        w["capture_max"] = _capture.DEFAULT_MAX[policy]
    if w.get("source") != "trace":
        return
    for key in ("run.events", "machine.tasks_per_cpu", "workload.syscalls"):
        if key in explicit:
            raise ConfigError(
                f"{key}: must not be set with workload.source = 'trace': the "
                f"capture sets it (events = syscalls x workload.trace_loops, "
                f"one task per pid, one kind per syscall name)")
    path, loops = w.get("trace"), w.get("trace_loops", 1)
    if not isinstance(path, str) or not path or not isinstance(loops, int):
        return                                  # config.checks names the key
    cap = capture_of(w)
    from fastring.world.fit import fit_mix
    w["syscalls"] = fit_mix(cap)
    if isinstance(cfg.get("run"), dict):
        cfg["run"]["events"] = len(cap) * loops


def capture_of(w: Mapping):
    """The parsed capture ``workload.trace`` (a ConfigError if unreadable)."""
    from fastring.world.replay import load_capture
    from fastring.world.strace import TraceError
    try:
        return load_capture(w["trace"], bool(w.get("trace_skip_bad", False)))
    except FileNotFoundError:
        raise ConfigError(f"workload.trace: no such file: {w['trace']!r}") from None
    except TraceError as exc:
        raise ConfigError(f"workload.trace: {exc}") from None


def replaces_mix(source: Mapping, overrides: list) -> bool:
    """``workload.replace_mix = true`` in the source or an override: the
    config's kinds are the whole mix (what ``fastring fit`` writes)."""
    w = source.get("workload")
    flag = w.get("replace_mix", False) if isinstance(w, Mapping) else False
    for parts, value in overrides:
        if parts == ["workload", "replace_mix"]:
            flag = value
    return flag is True

