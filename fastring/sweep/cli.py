"""``fastring sweep``: the command line."""
from __future__ import annotations

import argparse
import sys

from ..config import ConfigError
from ..cli.signals import exit_status, sigterm_as_interrupt
from .grid import DEFAULT_OUT, RUNS_DIR, FAILURES_FILE, SweepError, load_grid
from .executors import default_workers
from .runner import run_sweep, _label


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

