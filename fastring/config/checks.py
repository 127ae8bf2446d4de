"""The checks between keys, run once every key is valid on its own
(:mod:`fastring.config.schema`): the last step of ``load``, and the only
place a config is judged as a whole.

They also build what the rest of a run needs from the config and must not
build again: the compiled strategy programs (the checker of
:func:`fastring.model.strategies.compile_program` is one of these checks) and
the costs resolved against their profile. Every error names the key, what is
allowed and the value given.
"""
from __future__ import annotations

from collections.abc import Mapping

from ..errors import ConfigError
from ..model import strategies as _strategies
from ..world import costs as _costs
from . import layers as _layers


def check_whole(cfg: dict) -> tuple[dict, dict[str, float]]:
    """Raise the first :class:`ConfigError` between keys of ``cfg`` (a
    :class:`~fastring.model.strategies.ProgramError` for a program); return
    the compiled programs of ``run.strategies`` and the resolved costs."""
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
    known = (*_strategies.NAMES, *cfg["strategies"])
    for i, name in enumerate(cfg["run"]["strategies"]):
        if name not in known:
            raise ConfigError(f"run.strategies[{i}]: unknown strategy {name!r}; "
                              f"known: {', '.join(known)}")
    if w["source"] == "trace":
        check_trace(cfg)
    programs = _strategies.programs(cfg)
    costs = costs_of(cfg["costs"])
    check_span(cfg, costs, programs)
    return programs, costs


def check_trace(cfg: dict) -> None:
    """A replayed capture's config is the capture's: it reads, and
    ``run.events`` and the kinds are what ``layers.derive`` set."""
    w = cfg["workload"]
    if not w["trace"]:
        raise ConfigError("workload.trace: must name an strace capture "
                          "when workload.source = 'trace', got ''")
    cap = _layers.capture_of(w)
    want = len(cap) * w["trace_loops"]
    if cfg["run"]["events"] != want:
        raise ConfigError(f"run.events: must be the capture's syscalls x "
                          f"workload.trace_loops = {want}, got "
                          f"{cfg['run']['events']}")
    if list(w["syscalls"]) != cap.names:
        raise ConfigError(f"workload.syscalls: must be the capture's "
                          f"syscall names {cap.names}, got {list(w['syscalls'])}")


def costs_of(section: Mapping) -> dict[str, float]:
    """The cost profile named by ``costs.profile`` with the section's
    per-primitive overrides applied (ns)."""
    try:
        out = _costs.load_profile(section["profile"])
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    out.update({k: float(section[k]) for k in _costs.COST_KEYS if k in section})
    return out


def check_span(cfg: dict, costs: dict[str, float], programs: dict) -> None:
    """The run must fit the engine's int64 clock and arithmetic, whatever
    ``--force`` says: past them the tables would be wrong. The bounds are
    :mod:`fastring.sim.estimate`'s (the work and memory refusal, which
    ``--force`` overrides, is ``fastring.api.check``, before a run)."""
    from ..sim import estimate as _estimate   # imports the engine: lazily
    problem = (_estimate.read_time_problem(cfg)
               or _estimate.clock_problem(cfg, costs, programs))
    if problem:
        raise ConfigError(problem)
