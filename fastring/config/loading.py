"""Loading a config: the layers merged, every key checked, the whole judged
(:mod:`fastring.config.checks`), once per run.

:func:`load` returns a :class:`Config`: the nested dict users always had,
which also carries what loading built from it (the compiled strategy
programs, the resolved costs). The layers of a run below the CLI take
those from it (:func:`programs`, :func:`resolved_costs`) instead of loading
or compiling again, and ``load`` of a loaded config that nobody edited since
is a copy, not a second validation.
"""
from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Iterable, Mapping

import numpy as np

from .._toml import parse_value as _parse_value
from ..errors import ConfigError
from ..model import strategies as _strategies
from . import layers as _layers
from .checks import check_whole, costs_of
from .columns import to_json
from .schema import SCHEMA, check_record, defaults


class Config(dict):
    """A loaded config: the nested dict itself (it prints, compares,
    serializes and pickles as the plain dict it is), and what loading built
    from it: :attr:`programs` (``run.strategies``' compiled programs) and
    :attr:`costs` (the resolved cost profile, ns). They hold while the dict
    is as loaded (:meth:`is_current`); after an edit, :func:`load` (which
    ``fastring.run`` calls) checks it again from scratch."""

    def __init__(self, cfg: dict, programs: dict[str, np.ndarray],
                 costs: dict[str, float]):
        super().__init__(cfg)
        self.programs = programs
        self.costs = costs
        self._json = to_json(self)

    def is_current(self) -> bool:
        """Is the dict still as :func:`load` made it?"""
        return to_json(self) == self._json


def validate(cfg: Mapping) -> Config:
    """Check a complete nested config; return a normalized copy.

    Missing keys are errors here (:func:`load` fills them from the defaults).
    """
    out = check_record("", cfg, SCHEMA, fill=False)
    return Config(out, *check_whole(out))


def programs(cfg: Mapping, names=None) -> dict[str, np.ndarray]:
    """The compiled programs of ``names`` (default: ``run.strategies``):
    those :func:`load` compiled, or for a config edited since (or a
    hand-made dict), compiled now."""
    names = cfg["run"]["strategies"] if names is None else names
    if isinstance(cfg, Config) and set(names) <= cfg.programs.keys() and cfg.is_current():
        return {name: cfg.programs[name] for name in names}
    return _strategies.programs(cfg, names)


def resolved_costs(cfg: Mapping) -> dict[str, float]:
    """The cost profile named by ``costs.profile``, with the per-primitive
    overrides of the ``costs`` section applied (ns): as :func:`load` read
    it, or for a config edited since (or a hand-made dict), read now."""
    if isinstance(cfg, Config) and cfg.is_current():
        return dict(cfg.costs)
    return costs_of(cfg["costs"])


# ---------------------------------------------------------------- layers

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


def _parse_overrides(overrides) -> list[tuple[list[str], object]]:
    """Each override as (dotted key split, value): ``"section.key=value"``
    text, its value parsed as TOML, or a ``(dotted key, value)`` pair whose
    value is taken as it is (the CLI's ``--strategy`` list)."""
    out = []
    for item in [overrides] if isinstance(overrides, str) else overrides:
        if isinstance(item, str) and "=" in item:
            key, _, text = item.partition("=")
            value = _parse_value(text.strip())
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            key, value = item[0], copy.deepcopy(item[1])
        else:
            raise ConfigError(f"override {item!r}: expected 'section.key=value'")
        parts = key.strip().split(".")
        if not all(parts):
            raise ConfigError(f"override {item!r}: bad dotted key {key.strip()!r}")
        out.append((parts, value))
    return out


def _apply_override(cfg: dict, parts: list[str], value) -> None:
    node = cfg
    for i, part in enumerate(parts[:-1]):
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{'.'.join(parts[:i + 1])}: is not a table "
                              f"(it is {node!r}); cannot set {'.'.join(parts)}")
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
    base = defaults()
    return set(source) == set(base) and all(
        isinstance(source[sec], Mapping) and set(source[sec]) >= set(base[sec])
        for sec in base if isinstance(base[sec], dict) and base[sec])


def load(source=None, overrides: Iterable = ()) -> Config:
    """Defaults, then the preset ``tracer.preset`` names, then ``source``
    (None, a partial nested dict or a TOML file path), then ``overrides``
    (``"section.key=value"`` strings, or ``(dotted key, value)`` pairs);
    validated, normalized, its programs compiled. Keys set by the source or
    the overrides win over the preset. The inputs are not mutated.

    A :class:`Config` that ``load`` made and nobody edited since, with no
    overrides, comes back as a copy without a second validation."""
    parsed = _parse_overrides(overrides)
    if isinstance(source, Config) and not parsed and source.is_current():
        out = Config.__new__(Config)
        out.update(copy.deepcopy(dict(source)))
        out.__dict__.update(source.__dict__)     # the programs are read-only
        return out
    cfg = defaults()
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
            if _layers.replaces_mix(source, parsed):
                cfg["workload"]["syscalls"] = {}
            _merge(cfg, source)
    for parts, value in parsed:
        _apply_override(cfg, parts, value)
    explicit = _layers.explicit(None if complete else source, parsed)
    if not complete:
        _layers.apply_preset(cfg, explicit)
    _layers.derive(cfg, explicit, complete)
    return validate(cfg)
