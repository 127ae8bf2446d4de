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
    program, a run over the work or memory limit of ``fastring.sim.estimate``,
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

The command line (``fastring sweep``, ``python -m fastring.sweep``) is
:mod:`fastring.cli.sweep`.
"""
from __future__ import annotations

from .executors import default_workers
from .grid import (COMPRESSION, DEFAULT_OUT, FAILURES_FILE, GRID_FILE, HOST_COLUMNS,
                   MANIFEST_FILE, MANIFEST_FORMAT, RUNS_DIR, Cell, Grid, GridError,
                   SweepError, cell_id, cell_seed, load_grid)
from .output import Outcome, _write_cell, read
from .runner import run_sweep, sweep

__all__ = ["default_workers", "COMPRESSION", "DEFAULT_OUT",
           "FAILURES_FILE", "GRID_FILE", "HOST_COLUMNS", "MANIFEST_FILE",
           "MANIFEST_FORMAT", "RUNS_DIR", "Cell", "Grid", "GridError", "SweepError",
           "cell_id", "cell_seed", "load_grid", "Outcome", "read", "run_sweep",
           "sweep", "_write_cell"]
