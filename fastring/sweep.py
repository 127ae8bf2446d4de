"""``fastring sweep``: run a grid of configurations, in parallel, resumably.

Grid file
    A grid file is a config file (any of its sections give the base values,
    exactly as for ``fastring run``) plus one ``[axes]`` table. Each key of
    ``[axes]`` is a dotted config key, quoted, and its value the list of values
    that key takes::

        [run]
        events = 200000
        [buffer]
        subbuf_size = 4096
        [axes]
        "faults.p_major" = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2]
        "buffer.mode" = ["discard", "overwrite"]

    The grid is the cartesian product of the axes (the last axis varies
    fastest); every *cell* runs every strategy of ``run.strategies``, so the
    result has one row per cell and strategy. A cell's config is exactly what
    ``fastring run GRID.toml --set KEY=VALUE ...`` would load for its axis
    values (same merge rules: a table value replaces the table at its key, a
    table given for a whole section merges into it), plus ``run.seed`` set to
    the cell's seed. An axis key may name any config key, including keys inside
    tables (``"workload.syscalls.openat.weight"``, ``"strategies.mine.program"``)
    and whole sections (``"buffer" = [{mode = "discard"}, {n_subbuf = 8}]``).

Seeds
    Each cell is an independent run seeded by :func:`cell_seed`: SHA-256 of the
    base seed (``run.seed`` of the grid, default 1) and the cell's sorted axis
    key/values, as canonical JSON. It does not depend on the process, the
    Python run (no salted ``hash()``), the worker or the order the cells run
    in, so a cell gives the same row wherever it runs. ``run.seed`` may itself
    be an axis: its values then act as replicate labels (each gives a different
    derived seed). Strategies within a cell share one world (one seed), as in
    :func:`fastring.run`.

What is rejected up front, what fails alone
    The whole grid is validated before anything runs or is written. These
    reject the *whole grid* (:class:`GridError`, exit status 2): an unreadable
    or invalid TOML file; ``[axes]`` missing, empty or not a table; an axis
    whose value is not a non-empty list, or lists a value twice; an axis key
    that names no config key (unknown section, unknown key, or a path into a
    scalar), or that overlaps another axis (``"faults"`` and
    ``"faults.p_major"``); and a grid in which *no* cell is valid (a bad base
    value, for instance: every cell would fail alike). A value that is valid as
    a key but invalid for the cell that holds it (out of range, wrong type, a
    constraint between keys broken only in that combination, a bad strategy
    program, a run over the work or memory limit of ``fastring.estimate``,
    which a sweep never forces) makes only *that cell* fail: it is reported with its axis values,
    its config and the error, is written to ``failures.json``, and the other
    cells still run (exit status 1). A cell that raises while running fails
    the same way.

Output directory (default ``results/sweep``)
    ``runs/strategy=NAME/cell-<id>.parquet``
        one hive-partitioned Parquet dataset (``pyarrow.dataset.dataset(
        DIR / "runs", partitioning="hive")`` or :func:`read`); each file holds
        one cell's row for one strategy: ``cell`` (the cell id), the flattened
        config columns, then the metrics of the ``runs`` table, with the cell's
        config in the schema metadata. Each file is written under a temporary
        name and renamed into place as soon as its cell completes.
    ``grid.toml``
        a copy of the grid file.
    ``manifest.json``
        the grid's identity (``grid_sha256``), the axes, every cell (index, id,
        axis values, seed, status, how many times it was computed, on which
        worker, wall time) and one entry per ``fastring sweep`` invocation
        (which cells it computed, skipped and failed).
    ``failures.json``
        the failed cells of the last invocation: axis values, config, error
        and traceback (``[]`` when none failed).

Resume
    Running the same grid (same base values and the same set of cells; comments,
    formatting and the order of axes do not matter) into the same directory
    again skips every cell whose files are all present and computes the rest:
    an interrupted sweep resumes; failed cells are retried. A different grid
    into a directory that holds a sweep is an error unless ``force=True``
    (``--force``), which deletes that sweep's ``runs/``, manifest, failures and
    grid copy first (and nothing else in the directory).

Where cells run
    ``scheduler=None``: local processes (``concurrent.futures`` with the
    ``spawn`` start method), ``workers`` of them (default: one per core), each
    with ``NUMBA_NUM_THREADS=1``; ``workers=1`` runs the cells one after the
    other in the calling process. ``scheduler="local"``: a Dask
    ``LocalCluster`` of ``workers`` single-threaded worker processes.
    ``scheduler="tcp://HOST:PORT"``: the Dask scheduler at that address (its
    workers need fastring installed, and should run single-threaded with
    ``NUMBA_NUM_THREADS=1``: ``dask worker ADDRESS --nthreads 1``). Dask is the
    optional extra ``fastring[dask]``. Results always come back to the calling
    process, which writes them, so remote workers need no shared filesystem.

Exit status of ``fastring sweep``: 0 every cell done; 1 some cells failed
(the others are written); 2 the grid or the command line was rejected,
nothing ran; 130 interrupted (completed cells are kept; run again to resume).
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as _dt
import hashlib
import itertools
import json
import math
import os
import re
import shutil
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import _toml
from . import __version__
from . import config as C
from . import strategies as S
from .config import ConfigError
from .results import remove_stale_temps, temp_name
from .signals import exit_status, sigterm_as_interrupt

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
    overrides: list[str]        # "key=value" strings, as for --set
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

    from . import api
    cells = []
    for index, values in enumerate(itertools.product(*axes.values())):
        params = dict(zip(axes, values))
        cs = cell_seed(seed, params)
        overrides = [f"{k}={_toml.value(v)}" for k, v in params.items()]
        cell = Cell(index, cell_id(params), params, cs, overrides)
        try:
            cfg = C.load(base, [*overrides, f"run.seed={cs}"])
            api.check(cfg, S.programs(cfg))   # as fastring.run does
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


# ------------------------------------------------------------- the worker

def _run_cell(cfg: dict, cid: str, params: dict) -> dict:
    """Run one cell (in a worker). Never raises: returns the runs table, or
    the error with its traceback."""
    t0 = time.perf_counter()
    info = {"pid": os.getpid(), "host": _hostname(),
            "numba_threads": _numba_threads()}
    try:
        from . import api
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = api.run(cfg)
        runs = res.runs
        runs = runs.add_column(1, "cell", pa.array([cid] * runs.num_rows, pa.string()))
        meta = dict(runs.schema.metadata or {})
        meta[b"fastring.sweep.cell"] = cid.encode()
        meta[b"fastring.sweep.params"] = _canonical(params).encode()
        return {"ok": True, "runs": runs.replace_schema_metadata(meta),
                "warnings": [str(w.message) for w in caught],
                "wall_s": time.perf_counter() - t0, "worker": info}
    except Exception as exc:   # noqa: BLE001 - a cell fails alone
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
                "wall_s": time.perf_counter() - t0, "worker": info}


def _hostname() -> str:
    try:
        return os.uname().nodename
    except AttributeError:   # pragma: no cover
        import socket
        return socket.gethostname()


def _numba_threads():
    try:
        import numba
        return int(numba.config.NUMBA_NUM_THREADS)
    except Exception:   # noqa: BLE001   # pragma: no cover
        return None


def _failed(exc: BaseException) -> dict:
    return {"ok": False, "error": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(traceback.format_exception(exc)),
            "wall_s": None, "worker": None}


# --------------------------------------------------------------- executors

def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # pragma: no cover
        return os.cpu_count() or 1


@contextmanager
def _environ(**env):
    """Set environment variables for the processes started inside."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run_serial(cells, on_done):
    for cell in cells:
        on_done(cell, _run_cell(cell.config, cell.id, cell.params))


def _run_processes(cells, workers, on_done):
    import concurrent.futures as cf
    import multiprocessing as mp
    from .parallel import stop_pool
    pool = cf.ProcessPoolExecutor(max_workers=workers,
                                  mp_context=mp.get_context("spawn"))
    try:
        # spawn starts the workers as tasks are submitted: they inherit this
        # environment (the calling process has imported Numba already, so
        # its own thread count is unchanged)
        with _environ(NUMBA_NUM_THREADS="1"):
            futures = {pool.submit(_run_cell, c.config, c.id, c.params): c
                       for c in cells}
        for fut in cf.as_completed(futures):
            try:
                result = fut.result()
            except Exception as exc:   # noqa: BLE001 (e.g. a worker died)
                result = _failed(exc)
            on_done(futures[fut], result)
    except BaseException:
        stop_pool(pool)      # interrupted: stop the running cells too
        raise
    pool.shutdown(wait=True)


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise SweepError(
            "--scheduler needs dask.distributed, which is not installed: "
            "pip install 'fastring[dask]' (or pip install 'dask[distributed]')"
            f" ({exc})") from None
    return distributed


@contextmanager
def _dask_client(scheduler: str, workers: int):
    """A Dask client: of a new LocalCluster (``"local"``), or connected to
    the scheduler at an address. Raises SweepError if that fails."""
    distributed = _import_distributed()
    import logging
    with contextlib.ExitStack() as stack:
        try:
            if scheduler == "local":
                cluster = stack.enter_context(distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=logging.ERROR,
                    env={"NUMBA_NUM_THREADS": "1"}))
                client = stack.enter_context(distributed.Client(cluster))
            else:
                client = stack.enter_context(distributed.Client(scheduler,
                                                                timeout="10s"))
        except (OSError, TimeoutError, RuntimeError) as exc:
            raise SweepError(f"--scheduler {scheduler}: cannot "
                             f"{'start' if scheduler == 'local' else 'connect'}: "
                             f"{exc}") from None
        yield client


def _run_dask(cells, client, on_done, grid_sha):
    import distributed
    futures = {}
    for c in cells:
        f = client.submit(_run_cell, c.config, c.id, c.params, pure=False,
                          key=f"fastring-cell-{grid_sha[:8]}-{c.id}")
        futures[f] = c
    try:
        for fut in distributed.as_completed(list(futures)):
            try:
                result = fut.result()
            except Exception as exc:   # noqa: BLE001 (e.g. KilledWorker)
                result = _failed(exc)
            on_done(futures[fut], result)
    except BaseException:
        client.cancel(list(futures))
        raise


# ---------------------------------------------------------------- progress

def _fmt_time(s: float) -> str:
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class _Progress:
    """A one-line progress bar over cells on stderr, with the time left;
    redrawn every half second; silent unless enabled and stderr is a TTY."""

    def __init__(self, total: int, skipped: int, enabled: bool, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(enabled and total and getattr(self.stream, "isatty", lambda: False)())
        self.total, self.skipped = total, skipped
        self.done = self.failed = 0
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = None
        if self.enabled:
            if skipped:
                self.stream.write(f"sweep: resuming: {skipped} cells done before, "
                                  f"{total} to run\n")
            self.thread = threading.Thread(target=self._tick, daemon=True)
            self.thread.start()

    def _tick(self):
        while not self.stop.wait(0.5):
            self.draw()

    def update(self, ok: bool):
        with self.lock:
            self.done += 1
            self.failed += not ok
        self.draw()

    def line(self) -> str:
        el = time.monotonic() - self.t0
        if self.done:
            left = f"~{_fmt_time(el / self.done * (self.total - self.done))} left"
        else:
            left = "estimating time left"
        failed = f" ({self.failed} failed)" if self.failed else ""
        text = f"{self.done}/{self.total} cells{failed} | {_fmt_time(el)} elapsed, {left}"
        cols = shutil.get_terminal_size((80, 20)).columns
        width = max(10, min(30, cols - 66))
        fill = int(width * self.done / self.total)
        return (f"sweep [{'#' * fill}{'.' * (width - fill)}] "
                f"{100 * self.done // self.total:3d}% {text}")[:cols - 1]

    def draw(self):
        if not self.enabled:
            return
        with self.lock:
            self.stream.write("\r\x1b[K" + self.line())
            self.stream.flush()

    def close(self):
        if not self.enabled:
            return
        self.stop.set()
        self.thread.join()
        self.draw()
        self.stream.write("\n")
        self.stream.flush()


# ------------------------------------------------------------- the output

def _write_atomic(path: Path, data: bytes | str):
    tmp = temp_name(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


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
        tmp = temp_name(final)
        pq.write_table(part, tmp, compression=COMPRESSION)
        os.replace(tmp, final)


def _read_cells(out: Path, cells: Sequence[Cell], meta: dict) -> pa.Table:
    tables = []
    for cell in cells:
        if not _cell_done(out, cell):
            continue
        for strategy in cell.strategies:
            t = pq.read_table(_cell_path(out, strategy, cell.id))
            tables.append(t.add_column(0, "strategy",
                                       pa.array([strategy] * t.num_rows, pa.string())))
    if not tables:
        return pa.table({"strategy": pa.array([], pa.string()),
                         "cell": pa.array([], pa.string())}).replace_schema_metadata(meta)
    table = pa.concat_tables([t.replace_schema_metadata(None) for t in tables],
                             promote_options="permissive")
    return table.replace_schema_metadata(meta)


def read(out=DEFAULT_OUT) -> pa.Table:
    """The ``runs`` rows of the sweep in ``out`` (every completed cell), as one
    table, as :func:`sweep` returns it: ``strategy``, ``cell``, the config
    columns, the metrics; in grid order. (Plain Parquet readers see the same
    rows: ``pyarrow.dataset.dataset(out / "runs", partitioning="hive")``.)"""
    out = Path(out)
    if not (out / RUNS_DIR).is_dir():
        raise FileNotFoundError(f"{out / RUNS_DIR}: no sweep results here")
    try:
        grid = load_grid(out / GRID_FILE)
    except ConfigError:       # no grid copy, or one this version rejects
        grid = None
    if grid is not None:
        return _read_cells(out, grid.cells, _grid_meta(grid))
    tables = []
    for path in sorted((out / RUNS_DIR).glob("strategy=*/cell-*.parquet")):
        t = pq.read_table(path)
        strategy = path.parent.name.partition("=")[2]
        tables.append(t.add_column(0, "strategy", pa.array([strategy] * t.num_rows,
                                                            pa.string())))
    return pa.concat_tables([t.replace_schema_metadata(None) for t in tables],
                            promote_options="permissive")


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
        bar = _Progress(len(todo), len(skipped), progress)
        outcome = Outcome(out, grid, None, skipped=skipped)

        def on_done(cell: Cell, result: dict):
            meta = cells_meta[cell.id]
            ok = result["ok"]
            if ok:
                try:
                    _write_cell(out, cell, result["runs"])
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


# -------------------------------------------------------------------- CLI

def build_parser(prog: str = "fastring sweep") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Run every cell of a grid of configurations (a config file "
                    "plus an [axes] table of dotted keys -> lists of values), in "
                    "parallel, into one Parquet dataset partitioned by strategy. "
                    "Run it again to resume an interrupted sweep.",
        epilog="exit status: 0 all cells done; 1 some cells failed (see "
               "DIR/failures.json); 2 grid or options rejected, nothing ran; "
               "130 interrupted.")
    p.add_argument("grid", metavar="GRID.toml", help="the grid file")
    p.add_argument("--out", metavar="DIR", default=str(DEFAULT_OUT),
                   help="output directory (default: %(default)s)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT|local", default=None,
                   help="run the cells on a Dask cluster: the scheduler at this "
                        "address, or 'local' for a LocalCluster on this machine "
                        "(needs fastring[dask]); default: local processes")
    p.add_argument("--workers", metavar="N", type=int, default=None,
                   help="worker processes (local processes or --scheduler local;"
                        f" default: one per core, here {default_workers()}); "
                        "1 runs the cells in this process")
    p.add_argument("--force", action="store_true",
                   help="if DIR holds the results of a different grid, delete "
                        "them and start afresh")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is off anyway when stderr is not "
                        "a terminal)")
    return p


def main(argv: list[str] | None = None) -> int:
    """``fastring sweep ARGS...``; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:       # --help: 0, usage errors: 2
        return int(exc.code or 0)
    err = sys.stderr
    if args.workers is not None and args.workers < 1:
        print(f"fastring sweep: --workers: must be >= 1, got {args.workers}", file=err)
        return 2
    try:
        grid = load_grid(args.grid)
    except ConfigError as exc:
        print(f"fastring sweep: {args.grid}: {exc}", file=err)
        return 2
    workers = args.workers
    if args.scheduler not in (None, "local") and workers is not None:
        print("fastring sweep: note: --workers is ignored with a remote "
              "scheduler (its workers are started separately)", file=err)
        workers = None
    try:
        with sigterm_as_interrupt():
            res = run_sweep(grid, args.out, args.scheduler, workers,
                            progress=not args.no_progress, force=args.force)
    except SweepError as exc:
        print(f"fastring sweep: {exc}", file=err)
        return 2
    except KeyboardInterrupt as exc:
        print(f"\nfastring sweep: interrupted; completed cells are kept in "
              f"{args.out}: run the same command again to resume", file=err)
        return exit_status(exc)
    for w in res.warnings:
        print(f"fastring sweep: warning: {w}", file=err)
    n = len(grid.cells)
    print(f"fastring sweep: {n} cells: {len(res.computed)} computed, "
          f"{len(res.skipped)} done before, {len(res.failures)} failed; "
          f"{res.table.num_rows} rows in {res.out / RUNS_DIR}", file=err)
    shown = 20
    for f in res.failures[:shown]:
        print(f"fastring sweep: FAILED cell {f['cell']} [{f['index']}] "
              f"({_label(f['params'])}): {f['error']}", file=err)
    if len(res.failures) > shown:
        print(f"fastring sweep: ... and {len(res.failures) - shown} more",
              file=err)
    if res.failures:
        print(f"fastring sweep: the configs and errors of the failed cells are in "
              f"{res.out / FAILURES_FILE}", file=err)
        return 1
    return 0


if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
