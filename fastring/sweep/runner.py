"""Run a grid: skip the cells already done, run the rest, write each as it
comes back."""
from __future__ import annotations

import contextlib
import json
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from .. import _toml
from ..version import __version__
from ..io.results import remove_stale_temps
from .grid import (DEFAULT_OUT, GRID_FILE, MANIFEST_FILE, FAILURES_FILE,
                   MANIFEST_FORMAT, SweepError, Cell, Grid, load_grid)
from .executors import (_failed, default_workers, _run_serial, _run_processes,
                        _import_distributed, _dask_client, _run_dask)
from . import output   # output._write_cell: tests interrupt a sweep there
from ..io.progress import CellProgress
from ..io.atomic import write_atomic as _write_atomic
from .output import (_cell_done, _read_cells, _grid_meta,
                     _now, _prepare_out, Outcome, _failure_record)


def run_sweep(grid, out=None, scheduler=None, workers=None, progress=True,
              force=False) -> Outcome:
    """Run a grid (see the module docstring); return what was done.
    :func:`sweep` is the same returning only the table."""
    if not isinstance(grid, Grid):
        grid = load_grid(grid)
    out = Path(DEFAULT_OUT if out is None else out)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise SweepError(f"workers: must be an integer >= 1, got {workers!r}")
    if scheduler is not None and scheduler != "local" and (
            not isinstance(scheduler, str) or "://" not in scheduler):
        raise SweepError(f"scheduler: expected 'local' or a Dask scheduler address "
                         f"such as tcp://HOST:PORT, got {scheduler!r}")
    if scheduler not in (None, "local"):
        _import_distributed()     # a clear message before anything is written
        if workers is not None:
            warnings.warn("workers is ignored with a remote Dask scheduler "
                          "(its workers are started separately)", stacklevel=2)
    elif scheduler == "local":
        _import_distributed()

    with contextlib.ExitStack() as stack:
        client = None
        if scheduler not in (None, "local"):   # connect before writing anything
            client = stack.enter_context(_dask_client(scheduler, 0))
        try:
            old = _prepare_out(out, grid, force)
            out.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(out, recursive=True)      # of a killed sweep
        except OSError as exc:
            raise SweepError(f"{out}: cannot write the results there: {exc}") from None

        old_cells = {c.get("id"): c for c in (old or {}).get("cells", [])
                     if isinstance(c, dict)}
        cells_meta = {}
        for c in grid.cells:
            prev = old_cells.get(c.id, {})
            cells_meta[c.id] = {
                "index": c.index, "id": c.id, "params": c.params, "seed": c.seed,
                "status": "invalid" if c.config is None else "pending",
                "runs": int(prev.get("runs", 0)),
                "worker": prev.get("worker"), "wall_s": prev.get("wall_s"),
                "error": c.error,
            }
        todo, skipped = [], []
        for c in grid.valid_cells:
            if _cell_done(out, c):
                skipped.append(c.id)
                cells_meta[c.id]["status"] = "done"
            else:
                todo.append(c)
        failures = [_failure_record(c, "validate", c.error, None, grid.base)
                    for c in grid.invalid_cells]
        if not todo and old is not None:
            # finished before: leave the directory (maybe committed) as it is
            return Outcome(out, grid, _read_cells(out, grid.cells, _grid_meta(grid)),
                           skipped=skipped, failures=failures)
        try:
            if (not (out / GRID_FILE).is_file()
                    or (out / GRID_FILE).read_text(encoding="utf-8") != grid.text):
                _write_atomic(out / GRID_FILE, grid.text)
        except OSError as exc:
            raise SweepError(f"{out}: cannot write the results there: {exc}") from None
        n_workers = workers if workers is not None else default_workers()
        mode = ("processes" if n_workers > 1 else "serial") if scheduler is None else \
            ("dask-local" if scheduler == "local" else "dask")
        entry = {"started": _now(), "finished": None, "status": "running",
                 "scheduler": scheduler or "processes", "mode": mode,
                 "fastring_version": __version__,
                 "workers": None if mode == "dask" else n_workers,
                 "computed": [], "skipped": skipped, "failed": []}
        manifest = {
            "format": MANIFEST_FORMAT, "fastring_version": __version__,
            "grid_sha256": grid.sha256, "grid_file": GRID_FILE,
            "base_seed": grid.base_seed, "axes": grid.axes,
            "cells": list(cells_meta.values()),
            "sweeps": [*((old or {}).get("sweeps", [])), entry],
        }
        lock = threading.Lock()

        def save_manifest():
            _write_atomic(out / MANIFEST_FILE, json.dumps(manifest, indent=1,
                                                          default=str) + "\n")

        entry["failed"] = [c.id for c in grid.invalid_cells]

        def save_failures():
            _write_atomic(out / FAILURES_FILE, json.dumps(failures, indent=1,
                                                          default=str) + "\n")

        save_manifest()
        save_failures()
        bar = CellProgress(len(todo), len(skipped), progress)
        outcome = Outcome(out, grid, None, skipped=skipped)

        def on_done(cell: Cell, result: dict):
            meta = cells_meta[cell.id]
            ok = result["ok"]
            if ok:
                try:
                    output._write_cell(out, cell, result["runs"])
                except Exception as exc:   # noqa: BLE001 (e.g. disk full)
                    ok, result = False, _failed(exc)
            with lock:
                meta["worker"] = result.get("worker")
                meta["wall_s"] = result.get("wall_s")
                if ok:
                    meta["status"] = "done"
                    meta["runs"] += 1
                    entry["computed"].append(cell.id)
                    outcome.computed.append(cell.id)
                    for w in result.get("warnings", []):
                        outcome.warnings.append(f"cell {cell.id} ({cell.label()}): {w}")
                else:
                    meta["status"] = "failed"
                    meta["error"] = result["error"]
                    entry["failed"].append(cell.id)
                    failures.append(_failure_record(cell, "run", result["error"],
                                                    result.get("traceback"), grid.base))
                    save_failures()
                save_manifest()
            bar.update(ok)

        try:
            if todo:
                if scheduler is None and (n_workers == 1 or len(todo) == 1):
                    _run_serial(todo, on_done)
                elif scheduler is None:
                    _run_processes(todo, min(n_workers, len(todo)), on_done)
                else:
                    if client is None:
                        client = stack.enter_context(_dask_client(scheduler, n_workers))
                    _run_dask(todo, client, on_done, grid.sha256)
        except BaseException as exc:
            bar.close()
            entry["status"] = ("interrupted" if isinstance(exc, KeyboardInterrupt)
                               else f"error: {exc}")
            entry["finished"] = _now()
            with lock:
                save_manifest()
            raise
        bar.close()
        entry["status"] = "failed" if entry["failed"] else "complete"
        entry["finished"] = _now()
        save_manifest()
        failures.sort(key=lambda r: r["index"])
        save_failures()
        outcome.failures = failures
        outcome.table = _read_cells(out, grid.cells, _grid_meta(grid))
        return outcome


def sweep(grid, out=None, scheduler=None, workers=None, progress=True,
          force=False) -> pa.Table:
    """Run every cell of ``grid`` and return the ``runs`` rows of all its
    completed cells: one row per cell and strategy (``strategy``, ``cell``,
    the config columns, the metrics), in grid order.

    ``grid``: a grid TOML path or a nested dict with an ``axes`` table.
    ``out``: the output directory (default ``results/sweep``); cells already
    there are skipped (resume). ``scheduler``: None (local processes),
    ``"local"`` (a Dask LocalCluster) or a Dask scheduler address
    (``"tcp://HOST:PORT"``). ``workers``: processes (default: one per core).
    ``progress``: a progress bar on stderr if it is a terminal. ``force``:
    replace the results of a different grid in ``out``.

    Raises :class:`GridError` (the grid is invalid, nothing ran) or
    :class:`SweepError` (cannot start). Failed cells do not raise: they are
    left out of the table, written to ``failures.json`` and reported by a
    ``RuntimeWarning``.
    """
    res = run_sweep(grid, out, scheduler, workers, progress, force)
    for w in res.warnings:
        warnings.warn(w, RuntimeWarning, stacklevel=2)
    if res.failures:
        first = res.failures[0]
        warnings.warn(
            f"{len(res.failures)} of {len(res.grid.cells)} cells failed (see "
            f"{res.out / FAILURES_FILE}); first: cell {first['cell']} "
            f"({_label(first['params'])}): {first['error']}",
            RuntimeWarning, stacklevel=2)
    return res.table


def _label(params: Mapping) -> str:
    return ", ".join(f"{k}={_toml.value(v)}" for k, v in params.items())
