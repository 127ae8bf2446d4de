"""The grid of a sweep: its axes, checked, expanded into cells with stable ids
and seeds; the sweep's file names and errors."""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import _toml
from .. import config as C
from ..model import strategies as S
from ..config import ConfigError


DEFAULT_OUT = Path("results") / "sweep"
RUNS_DIR = "runs"
GRID_FILE = "grid.toml"
MANIFEST_FILE = "manifest.json"
FAILURES_FILE = "failures.json"
MANIFEST_FORMAT = "fastring.sweep/1"
COMPRESSION = "zstd"     # as fastring run's tables
#: metrics that measure the host, not the model: they differ between two runs
#: of the same cell (everything else is bit-for-bit the same).
HOST_COLUMNS = ("wall_s", "events_per_s")


class GridError(ConfigError):
    """The grid as a whole is invalid; nothing was run or written."""


class SweepError(Exception):
    """The sweep cannot start (output directory in use by another grid,
    scheduler unavailable or unreachable, bad option)."""


# ------------------------------------------------------------------ the grid

@dataclass
class Cell:
    """One point of the grid."""
    index: int                  # position in the grid (last axis fastest)
    id: str                     # stable id from the axis values (file names)
    params: dict                # axis key -> value, in axis order
    seed: int                   # the run.seed the cell runs with
    overrides: list[tuple]      # (key, value) pairs: config.load takes the values
    config: dict | None = None  # the normalized config; None if invalid
    error: str | None = None    # why the config is invalid

    @property
    def strategies(self) -> list[str]:
        return list(self.config["run"]["strategies"]) if self.config else []

    def label(self) -> str:
        return ", ".join(f"{k}={_toml.value(v)}" for k, v in self.params.items())


@dataclass
class Grid:
    base: dict                  # the grid file without [axes] (raw, as read)
    axes: dict[str, list]       # dotted key -> values, in file order
    cells: list[Cell]
    base_seed: int
    sha256: str                 # identity: base values + set of cells
    text: str                   # grid.toml text (the file verbatim, if any)

    @property
    def valid_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.config is not None]

    @property
    def invalid_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.config is None]


def _canonical(value, default=None) -> str:
    """Canonical JSON (sorted keys, no spaces): the input of ids and seeds."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True, allow_nan=True, default=default)


def _digest(tag: str, value) -> bytes:
    return hashlib.sha256(tag.encode() + b"\0" + _canonical(value).encode()).digest()


def cell_id(params: Mapping) -> str:
    """The cell's id: 12 hex digits of SHA-256 of its sorted axis key/values."""
    return _digest("fastring.sweep.cell", sorted(params.items())).hex()[:12]


def cell_seed(base_seed: int, params: Mapping) -> int:
    """The seed a cell runs with: SHA-256 of the base seed and the cell's
    sorted axis key/values (canonical JSON), as an integer in [0, 2**63).
    Stable across processes, machines and Python runs."""
    d = _digest("fastring.sweep.seed",
                {"base_seed": base_seed, "params": sorted(params.items())})
    return int.from_bytes(d[:8], "big") & (2**63 - 1)


def _check_axis_key(key) -> list[str]:
    """The parts of an axis key, or a GridError if it names no config key."""
    if not isinstance(key, str) or not key or not all(key.split(".")):
        raise GridError(f"axes: bad axis key {key!r}: expected a dotted config "
                        f"key such as \"faults.p_major\"")
    parts = key.split(".")
    sec, rest = parts[0], parts[1:]
    spec = C.SCHEMA.get(sec)
    if spec is None:
        raise GridError(f"axes.{key}: unknown section {sec!r}; known sections: "
                        f"{', '.join(C.SCHEMA)}")
    path = sec
    if isinstance(spec, dict):
        if not rest:
            return parts                     # a whole section: tables merge
        if rest[0] not in spec:
            raise GridError(f"axes.{key}: unknown key {sec}.{rest[0]}; known "
                            f"keys: {', '.join(spec)}")
        spec, path, rest = spec[rest[0]], f"{sec}.{rest[0]}", rest[1:]
    while rest:
        if spec.type != "table":
            raise GridError(f"axes.{key}: {path} is not a table, it has no "
                            f"key {rest[0]!r}")
        path, rest = f"{path}.{rest[0]}", rest[1:]   # an entry: any name
        if not rest:
            break
        if rest[0] not in spec.sub:
            raise GridError(f"axes.{key}: unknown key {path}.{rest[0]}; known "
                            f"keys: {', '.join(spec.sub)}")
        spec, path, rest = spec.sub[rest[0]], f"{path}.{rest[0]}", rest[1:]
    return parts


def _check_axes(axes) -> dict[str, list]:
    if axes is None:
        raise GridError("grid: no [axes] table; a grid is a config file plus "
                        "an [axes] table of dotted keys -> lists of values, "
                        "e.g. \"faults.p_major\" = [1e-5, 1e-4]")
    if not isinstance(axes, Mapping):
        raise GridError(f"axes: must be a table of dotted keys -> lists, "
                        f"got {axes!r}")
    if not axes:
        raise GridError("axes: empty; list at least one axis, e.g. "
                        "\"faults.p_major\" = [1e-5, 1e-4]")
    parts = {}
    for key, values in axes.items():
        parts[key] = _check_axis_key(key)
        if not isinstance(values, (list, tuple)) or not values:
            raise GridError(f"axes.{key}: must be a non-empty list of values, "
                            f"got {values!r}")
        seen = {}
        for i, v in enumerate(values):
            try:
                canon = _canonical(v)
                _toml.value(v)
            except (TypeError, ValueError):
                raise GridError(f"axes.{key}[{i}]: unsupported value {v!r} "
                                f"(numbers, strings, booleans, lists and "
                                f"tables only)") from None
            if canon in seen:
                raise GridError(f"axes.{key}[{i}]: duplicate value {v!r} "
                                f"(also at [{seen[canon]}])")
            seen[canon] = i
    for a, b in itertools.permutations(parts, 2):
        if parts[b][:len(parts[a])] == parts[a]:
            raise GridError(f"axes.{b}: overlaps axis {a!r}; an axis key must "
                            f"not lie inside another")
    return {k: list(v) for k, v in axes.items()}


def load_grid(source) -> Grid:
    """Read and validate a grid (a TOML path, or a nested dict with an
    ``axes`` table); every cell's config is loaded and checked. Raises
    :class:`GridError` if the grid as a whole is invalid (see the module
    docstring); invalid cells are kept, with their error."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            doc = C._read_toml(path)
        except ConfigError as exc:
            raise GridError(str(exc).replace("config file", "grid file", 1)) from None
        text = path.read_text(encoding="utf-8")
    elif isinstance(source, Mapping):
        doc, text = copy.deepcopy(dict(source)), None
    else:
        raise GridError(f"grid: must be a TOML file path or a table, got {source!r}")
    axes = _check_axes(doc.pop("axes", None))
    base = doc

    seed = base.get("run", {}).get("seed", C.DEFAULTS["run"]["seed"]) \
        if isinstance(base.get("run"), Mapping) else C.DEFAULTS["run"]["seed"]
    if isinstance(seed, float) and seed.is_integer():
        seed = int(seed)

    from .. import api
    cells = []
    for index, values in enumerate(itertools.product(*axes.values())):
        params = dict(zip(axes, values))
        cs = cell_seed(seed, params)
        overrides = list(params.items())
        cell = Cell(index, cell_id(params), params, cs, overrides)
        try:
            cfg = C.load(base, [*overrides, ("run.seed", cs)])
            api.check(cfg)                    # as fastring.run does
            cell.config = cfg
        except (ConfigError, S.ProgramError) as exc:
            cell.error = str(exc)
        cells.append(cell)
    if not any(c.config is not None for c in cells):
        errors = sorted({c.error for c in cells})
        more = f" (and {len(errors) - 1} other errors)" if len(errors) > 1 else ""
        raise GridError(f"grid: no cell is valid ({len(cells)} cells); "
                        f"{cells[0].label()}: {cells[0].error}{more}")
    sha = hashlib.sha256(_canonical(
        {"base": base, "cells": sorted(c.id for c in cells)}, default=repr
    ).encode()).hexdigest()
    if text is None:
        try:
            text = _toml.document({**base, "axes": axes})
        except TypeError as exc:
            raise GridError(f"grid: {exc}") from None
    return Grid(base, axes, cells, seed, sha, text)
