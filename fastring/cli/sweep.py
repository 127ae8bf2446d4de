"""``fastring sweep`` (also ``python -m fastring.sweep``): run a grid of
configurations (:mod:`fastring.sweep`).

Exit status: 0 every cell done; 1 some cells failed (the others are
written); 2 the grid or the command line was rejected, nothing ran; 130
interrupted (completed cells are kept; run again to resume).
"""
from __future__ import annotations

import sys

from .common import Command
from .signals import exit_status

SAY = "fastring sweep:"


def options(p) -> None:
    from ..sweep.executors import default_workers
    from ..sweep.grid import DEFAULT_OUT
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


def sweep(args) -> int:
    from ..config import ConfigError
    from ..sweep import FAILURES_FILE, RUNS_DIR, SweepError, load_grid, run_sweep
    from ..sweep.runner import _label
    err = sys.stderr
    if args.workers is not None and args.workers < 1:
        print(f"{SAY} --workers: must be >= 1, got {args.workers}", file=err)
        return 2
    try:
        grid = load_grid(args.grid)
    except ConfigError as exc:
        print(f"{SAY} {args.grid}: {exc}", file=err)
        return 2
    workers = args.workers
    if args.scheduler not in (None, "local") and workers is not None:
        print(f"{SAY} note: --workers is ignored with a remote "
              "scheduler (its workers are started separately)", file=err)
        workers = None
    try:
        res = run_sweep(grid, args.out, args.scheduler, workers,
                        progress=not args.no_progress, force=args.force)
    except SweepError as exc:
        print(f"{SAY} {exc}", file=err)
        return 2
    except KeyboardInterrupt as exc:    # Ctrl-C, or SIGTERM (.signals)
        print(f"\n{SAY} interrupted; completed cells are kept in "
              f"{args.out}: run the same command again to resume", file=err)
        return exit_status(exc)
    for w in res.warnings:
        print(f"{SAY} warning: {w}", file=err)
    print(f"{SAY} {len(grid.cells)} cells: {len(res.computed)} computed, "
          f"{len(res.skipped)} done before, {len(res.failures)} failed; "
          f"{res.table.num_rows} rows in {res.out / RUNS_DIR}", file=err)
    shown = 20
    for f in res.failures[:shown]:
        print(f"{SAY} FAILED cell {f['cell']} [{f['index']}] "
              f"({_label(f['params'])}): {f['error']}", file=err)
    if len(res.failures) > shown:
        print(f"{SAY} ... and {len(res.failures) - shown} more", file=err)
    if res.failures:
        print(f"{SAY} the configs and errors of the failed cells are in "
              f"{res.out / FAILURES_FILE}", file=err)
        return 1
    return 0


SWEEP = Command(
    "sweep", "run a parameter sweep (options: fastring sweep --help)",
    description="Run every cell of a grid of configurations (a config file "
                "plus an [axes] table of dotted keys -> lists of values), in "
                "parallel, into one Parquet dataset partitioned by strategy. "
                "Run it again to resume an interrupted sweep.",
    epilog="exit status: 0 all cells done; 1 some cells failed (see "
           "DIR/failures.json); 2 grid or options rejected, nothing ran; "
           "130 interrupted.",
    options=options, handler=sweep)
