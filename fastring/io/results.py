"""Results of a run: the ``runs``, ``buffers`` and ``events`` Arrow tables,
and their files.

Every table carries schema metadata (``fastring.config`` as JSON, the
fastring, numba, numpy and pyarrow versions, the seed) so a file read back
months later still says exactly how it was made.

On disk a run is a directory holding ``runs.parquet``, ``buffers.parquet`` and
(on request) ``events.parquet``, zstd-compressed. :meth:`Results.write` and
:func:`run_to_dir` write them, :func:`read` reads them back (it also reads a
sweep's hive-partitioned datasets ``runs/strategy=NAME/*.parquet``, with
:mod:`.dataset`).

Writing is all or nothing: each file is written under a hidden temporary name
in the output directory and renamed over its final name (``os.replace``) only
once every table of the run is complete. A failed or interrupted run
(Ctrl-C, SIGTERM) leaves the previous files untouched, and removes the output
directory if the run created it; temporary files of a run that was killed
outright (SIGKILL, power loss) are removed by the next run into the same
directory. A directory that cannot be written is refused before the run
starts. A directory holds one run: writing a run without events removes a
stale ``events.parquet`` left by an earlier run.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .dataset import read_dataset
from .atomic import TEMP_NAME, remove_stale_temps, temp_name  # noqa: F401 (public here)
from ..version import __version__
from ..config import to_json

TABLES = ("runs", "buffers", "events")
COMPRESSION = "zstd"


def schema_metadata(cfg: dict) -> dict[bytes, bytes]:
    return {
        b"fastring.config": to_json(cfg).encode(),
        b"fastring.version": __version__.encode(),
        b"numba.version": numba.__version__.encode(),
        b"numpy.version": np.__version__.encode(),
        b"pyarrow.version": pa.__version__.encode(),
        b"fastring.seed": str(cfg["run"]["seed"]).encode(),
    }


def config_of(table: pa.Table) -> dict:
    """The config a result table was produced with (from its metadata)."""
    return json.loads(table.schema.metadata[b"fastring.config"])


@dataclass
class Results:
    """What :func:`fastring.run` returns."""
    config: dict
    runs: pa.Table
    buffers: pa.Table
    events: pa.Table | None = None

    def tables(self) -> dict[str, pa.Table]:
        out = {"runs": self.runs, "buffers": self.buffers}
        if self.events is not None:
            out["events"] = self.events
        return out

    def write(self, out_dir, *, compression: str = COMPRESSION) -> dict[str, Path]:
        """Write the tables as ``out_dir/{runs,buffers[,events]}.parquet``
        (all or nothing, see the module docstring); returns name -> path."""
        with ResultsWriter(out_dir, config=self.config,
                           events=self.events is not None,
                           compression=compression) as w:
            if self.events is not None:
                w.write_events(self.events)
            return w.finish(self)


# ------------------------------------------------------------------ writing

class OutputDirError(OSError):
    """The output directory cannot be created (a file is in the way, no
    permission): the user's to fix, not a bug."""




def check_writable(directory) -> None:
    """Raise :class:`OutputDirError` unless a file can be created in the
    existing ``directory`` (permissions, read-only file systems, a file in
    the way: all found by trying)."""
    d = Path(directory)
    if not d.is_dir():
        raise OutputDirError(f"output directory {os.fspath(d)!r}: not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".fastring-probe-", dir=d)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputDirError(f"output directory {os.fspath(d)!r}: cannot write "
                             f"there: {exc.strerror or exc}") from None


class ResultsWriter:
    """Write one run into a directory, all or nothing.

    Use as a context manager: on entry it creates ``out_dir`` (and missing
    parents), checks that it can write there (:class:`OutputDirError`
    otherwise, before any run) and removes killed runs' temporary files; :meth:`write_batch` streams per-event record batches into a
    temporary ``events.parquet`` (with :class:`pyarrow.parquet.ParquetWriter`,
    one row group per batch, so events never sit in memory together);
    :meth:`finish` writes ``runs`` and ``buffers`` and renames every file into
    place. Leaving the block with an exception, or without :meth:`finish`,
    removes the temporary files, and the directories it created.
    """

    def __init__(self, out_dir, *, config: dict | None = None,
                 events: bool = False, compression: str = COMPRESSION):
        self.out_dir = Path(out_dir)
        self.config = config
        self.events = events
        self.compression = compression
        self._created: Path | None = None     # topmost directory we made
        self._tmp: dict[str, Path] = {}
        self._writer: pq.ParquetWriter | None = None
        self._n_events = 0
        self._finished = False

    # -- context
    def __enter__(self) -> ResultsWriter:
        missing = None
        p = self.out_dir.absolute()
        while not p.exists():
            missing = p
            p = p.parent
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if missing is not None and missing.is_dir():
                shutil.rmtree(missing, ignore_errors=True)
            raise OutputDirError(f"output directory {os.fspath(self.out_dir)!r}: "
                                 f"cannot create it: {exc.strerror or exc}") from exc
        self._created = missing
        try:
            check_writable(self.out_dir)
        except OutputDirError:
            self.abort()
            raise
        remove_stale_temps(self.out_dir)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._finished:
            self.abort()

    def abort(self) -> None:
        """Drop what this writer wrote; remove the directory if it made it."""
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:
                pass
            self._writer = None
        for path in self._tmp.values():
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        self._tmp.clear()
        if self._created is not None:
            shutil.rmtree(self._created, ignore_errors=True)
            self._created = None

    # -- files
    def _tmp_path(self, name: str) -> Path:
        path = temp_name(self.out_dir / f"{name}.parquet")
        self._tmp[name] = path
        return path

    def _write_table(self, name: str, table: pa.Table) -> None:
        pq.write_table(table, self._tmp_path(name), compression=self.compression)

    @property
    def n_events(self) -> int:
        """Event rows written so far."""
        return self._n_events

    def write_batch(self, batch: pa.RecordBatch) -> None:
        """Append one batch of per-event rows (``fastring.run``'s ``on_batch``)."""
        if not self.events:
            raise ValueError("this writer was opened with events=False")
        if self._writer is None:
            schema = batch.schema
            if self.config is not None:
                schema = schema.with_metadata(schema_metadata(self.config))
            self._writer = pq.ParquetWriter(self._tmp_path("events"), schema,
                                            compression=self.compression)
        self._writer.write_batch(batch)
        self._n_events += batch.num_rows

    def write_events(self, table: pa.Table) -> None:
        """Write a whole in-memory events table, batch by batch."""
        for batch in table.to_batches():
            self.write_batch(batch)
        if self._writer is None:          # an empty table: still one file
            self._write_table("events", table)

    def finish(self, results: Results) -> dict[str, Path]:
        """Write ``runs`` and ``buffers``, close ``events``, rename all into
        place; returns name -> final path."""
        if self.events:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            elif "events" not in self._tmp:
                self._write_table("events", _empty_events(results.config))
        self._write_table("runs", results.runs)
        self._write_table("buffers", results.buffers)
        out = {}
        for name in TABLES:
            if name in self._tmp:
                out[name] = self.out_dir / f"{name}.parquet"
                os.replace(self._tmp[name], out[name])
        self._tmp.clear()
        if not self.events:
            stale = self.out_dir / "events.parquet"
            if stale.is_file():
                stale.unlink()
        self._finished = True
        return out


def _empty_events(cfg: dict) -> pa.Table:
    from .. import engine as E
    from ..world import prepare as W
    from ..api import event_batch
    batch = event_batch(np.zeros((0, E.N_E), np.int64), "", W.kinds(cfg))
    return pa.Table.from_batches([batch]).replace_schema_metadata(schema_metadata(cfg))


def run_to_dir(out_dir, config=None, *, overrides: Iterable[str] = (),
               events: bool = False, progress: Callable | None = None,
               compression: str = COMPRESSION, jobs: int | None = 1,
               force: bool = False, before_run: Callable[[dict], None] | None = None,
               ) -> tuple[Results, dict[str, Path]]:
    """Run ``config`` (as :func:`fastring.run`, with its ``progress``, ``jobs``
    and ``force``) and write its tables into ``out_dir``; with ``events``, the
    per-event rows are streamed into ``events.parquet`` as they are produced
    (``Results.events`` stays None). This is what ``fastring run`` does.

    The config is validated, and a run estimated too big for this machine
    refused (unless ``force``), before anything is created: a bad config
    raises :class:`~fastring.config.ConfigError` (or
    :class:`~fastring.strategies.ProgramError`) and touches no file.
    ``before_run(cfg)`` is called once the output directory is ready, just
    before the run (``fastring run`` compiles the kernels there, so that its
    progress bar times the simulation only). Returns the results and name ->
    path of the files written.
    """
    from .. import config as C
    from ..api import check, run

    cfg = C.load(config, overrides)      # checks and compiles; run() reuses it
    check(cfg, force=force)
    with ResultsWriter(out_dir, config=cfg, events=events,
                       compression=compression) as w:
        if before_run is not None:
            before_run(cfg)
        res = run(cfg, progress=progress, jobs=jobs, force=force,
                  on_batch=w.write_batch if events else None)
        paths = w.finish(res)
    return res, paths


# ------------------------------------------------------------------ reading

def table_path(directory, name: str) -> Path | None:
    """``DIR/NAME.parquet`` or the dataset directory ``DIR/NAME/``, if present."""
    d = Path(directory)
    if (d / f"{name}.parquet").is_file():
        return d / f"{name}.parquet"
    if (d / name).is_dir():
        return d / name
    return None


def read_table(directory, name: str, columns: list[str] | None = None) -> pa.Table:
    """One table of a results directory (file or dataset directory)."""
    path = table_path(directory, name)
    if path is None:
        raise FileNotFoundError(f"{directory}: no {name}.parquet nor {name}/")
    if path.is_file():
        return pq.read_table(path, columns=columns)
    table = read_dataset(path)
    return table.select(columns) if columns is not None else table


def read(directory, *, events: bool = True) -> Results:
    """Read a results directory written by :meth:`Results.write`,
    :func:`run_to_dir`, ``fastring run`` or ``fastring sweep``.

    ``runs`` is required; ``buffers`` and ``events`` are read when present
    (``events=False`` skips the per-event table, which may be large). The
    config is the one in the ``runs`` metadata (for a sweep: its first file's).
    """
    runs = read_table(directory, "runs")
    buffers = (read_table(directory, "buffers")
               if table_path(directory, "buffers") is not None else None)
    ev = (read_table(directory, "events")
          if events and table_path(directory, "events") is not None else None)
    meta = runs.schema.metadata or {}
    cfg = json.loads(meta[b"fastring.config"]) if b"fastring.config" in meta else {}
    return Results(config=cfg, runs=runs,
                   buffers=buffers if buffers is not None else pa.table({}),
                   events=ev)
