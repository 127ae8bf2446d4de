"""The sweep's output directory: one Parquet file per cell, the manifest,
resuming, and :func:`read`."""
from __future__ import annotations

import copy
import datetime as _dt
import json
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..version import __version__
from ..config import ConfigError
from ..io.atomic import write_via_temp
from ..io.dataset import list_parts, read_parts
from .grid import (DEFAULT_OUT, RUNS_DIR, GRID_FILE, MANIFEST_FILE, FAILURES_FILE,
                   COMPRESSION, SweepError, Cell, Grid, _canonical, load_grid)


# ------------------------------------------------------------- the output

def _cell_path(out: Path, strategy: str, cid: str) -> Path:
    return out / RUNS_DIR / f"strategy={strategy}" / f"cell-{cid}.parquet"


def _cell_done(out: Path, cell: Cell) -> bool:
    return cell.config is not None and all(
        _cell_path(out, s, cell.id).is_file() for s in cell.strategies)


def _write_cell(out: Path, cell: Cell, runs: pa.Table):
    """One file per strategy, each written under a temporary name (ignored by
    Parquet dataset readers: it starts with a dot) and renamed into place."""
    for strategy in cell.strategies:
        part = runs.filter(pc.equal(runs["strategy"], strategy)).drop_columns(["strategy"])
        final = _cell_path(out, strategy, cell.id)
        final.parent.mkdir(parents=True, exist_ok=True)
        write_via_temp(final, lambda tmp: pq.write_table(part, tmp,
                                                         compression=COMPRESSION))


def _no_rows(meta: dict | None) -> pa.Table:
    return pa.table({"strategy": pa.array([], pa.string()),
                     "cell": pa.array([], pa.string())}).replace_schema_metadata(meta)


def _read_cells(out: Path, cells: Sequence[Cell], meta: dict) -> pa.Table:
    parts = [(_cell_path(out, strategy, cell.id), {"strategy": strategy})
             for cell in cells if _cell_done(out, cell)
             for strategy in cell.strategies]
    return read_parts(parts, metadata=meta) if parts else _no_rows(meta)


def read(out=DEFAULT_OUT) -> pa.Table:
    """The ``runs`` rows of the sweep in ``out`` (every completed cell), as one
    table, as :func:`sweep` returns it: ``strategy``, ``cell``, the config
    columns, the metrics; in grid order (in path order when the grid copy is
    missing). (Plain Parquet readers see the same rows:
    ``pyarrow.dataset.dataset(out / "runs", partitioning="hive")``.)"""
    out = Path(out)
    if not (out / RUNS_DIR).is_dir():
        raise FileNotFoundError(f"{out / RUNS_DIR}: no sweep results here")
    try:
        grid = load_grid(out / GRID_FILE)
    except ConfigError:       # no grid copy, or one this version rejects
        grid = None
    if grid is not None:
        return _read_cells(out, grid.cells, _grid_meta(grid))
    parts = list_parts(out / RUNS_DIR)
    return (read_parts(parts).replace_schema_metadata(None) if parts
            else _no_rows(None))


def _grid_meta(grid: Grid) -> dict[bytes, bytes]:
    import numba
    import numpy as np
    return {
        b"fastring.sweep.grid": _canonical({"base": grid.base, "axes": grid.axes},
                                           default=repr).encode(),
        b"fastring.sweep.grid_sha256": grid.sha256.encode(),
        b"fastring.version": __version__.encode(),
        b"numba.version": numba.__version__.encode(),
        b"numpy.version": np.__version__.encode(),
        b"pyarrow.version": pa.__version__.encode(),
        b"fastring.seed": str(grid.base_seed).encode(),
    }


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _prepare_out(out: Path, grid: Grid, force: bool) -> dict | None:
    """Check that ``out`` is free or holds this grid; return its manifest."""
    manifest_path = out / MANIFEST_FILE
    old = None
    if manifest_path.exists():
        try:
            old = json.loads(manifest_path.read_text())
            if not isinstance(old, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            if not force:
                raise SweepError(f"{manifest_path}: unreadable ({exc}); use "
                                 f"--force to start this sweep afresh") from None
            old = None
        else:
            if old.get("grid_sha256") != grid.sha256 and not force:
                raise SweepError(
                    f"{out} holds the results of a different grid (manifest "
                    f"grid_sha256 {str(old.get('grid_sha256'))[:12]}..., this grid "
                    f"{grid.sha256[:12]}...); choose another --out, or use "
                    f"--force to delete them and start afresh")
    elif (out / RUNS_DIR).exists() and not force:
        raise SweepError(f"{out / RUNS_DIR} exists but {manifest_path} does not: "
                         f"not a sweep of this grid; choose another --out, or use "
                         f"--force to delete it and start afresh")
    if force and (old is None or old.get("grid_sha256") != grid.sha256):
        shutil.rmtree(out / RUNS_DIR, ignore_errors=True)
        for name in (MANIFEST_FILE, FAILURES_FILE, GRID_FILE):
            (out / name).unlink(missing_ok=True)
        old = None
    return old


@dataclass
class Outcome:
    """What a sweep did (:func:`sweep` returns only ``table``)."""
    out: Path
    grid: Grid
    table: pa.Table
    computed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False


def _given_config(cell: Cell, base: dict) -> dict:
    """An invalid cell's config as given: the base values with its axis values
    set (defaults not filled in), for the failure report."""
    cfg = copy.deepcopy(base)
    for key, value in [*cell.params.items(), ("run.seed", cell.seed)]:
        node, parts = cfg, key.split(".")
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        node[parts[-1]] = copy.deepcopy(value)
    return cfg


def _failure_record(cell: Cell, stage: str, error: str, tb: str | None,
                    base: dict) -> dict:
    rec = {"cell": cell.id, "index": cell.index, "params": cell.params,
           "stage": stage, "error": error,
           "config": cell.config if cell.config is not None
           else _given_config(cell, base)}
    if tb:
        rec["traceback"] = tb
    return rec
