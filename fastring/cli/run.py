"""``fastring run``: simulate strategies, print a comparison, write Parquet
(through :func:`fastring.io.results.run_to_dir`, the one run-to-directory
path)."""
from __future__ import annotations

import os
import sys
import time

from .common import (EXIT_OK, Command, add_config_args, add_output_args, check_format,
                     int_arg, names, overrides)


def options(p) -> None:
    add_config_args(p)
    p.add_argument("--out", default="results/latest", metavar="DIR",
                   help="output directory (default: %(default)s); created "
                        "if missing, files replaced atomically")
    p.add_argument("--events-table", action="store_true",
                   help="also write events.parquet, one row per event "
                        "(streamed to disk as it is produced; a few tens of "
                        "bytes per event)")
    p.add_argument("--force", action="store_true",
                   help="run even if the run is estimated to take over an "
                        "hour of engine time or over half of this machine's "
                        "memory (refused otherwise, with the estimate)")
    p.add_argument("--jobs", type=int_arg, metavar="N",
                   help="strategies run in N processes at once (default: "
                        "one per core; same tables; with --events-table, one)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is only shown on a terminal, "
                        "for runs longer than a second)")
    add_output_args(p)


def run(args) -> int:
    from .. import config as C
    from ..io.progress import ProgressBar, warm_up
    from ..io.results import run_to_dir
    from ..report import columns_for, render, unit_symbol, verdict_lines

    check_format(args)
    columns = names(args.columns)
    cfg = C.load(args.config, overrides(args))         # bad input: before any file
    strategies, n = cfg["run"]["strategies"], cfg["run"]["events"]
    bar = ProgressBar(strategies, n, enabled=not args.no_progress)

    def compile_first(cfg):       # the output directory is ready
        tiny = warm_up(cfg, force=args.force)           # compile or load the kernels
        columns_for(columns, tiny.runs.column_names)    # any runs column may be named
        bar.start()                                     # time the simulation only

    try:
        res, paths = run_to_dir(args.out, cfg, events=args.events_table, progress=bar,
                                jobs=args.jobs or None, force=args.force,
                                before_run=compile_first)
    finally:
        bar.close()
    elapsed = time.monotonic() - bar.t0
    mu = unit_symbol()
    print(render(res.runs, args.format, columns=columns, micro=mu))
    simulated = sum(r["events"] for r in res.runs.to_pylist())
    files = ", ".join(p.name for p in paths.values())
    footer = (f"simulator: {len(strategies)} strateg"
              f"{'y' if len(strategies) == 1 else 'ies'} x {n} events in "
              f"{elapsed:.1f}s ({simulated / max(elapsed, 1e-9):,.0f} "
              f"events/s simulated, not a tracer figure); wrote {files} to "
              f"{os.path.join(args.out, '')}")
    if args.format in ("table", "markdown"):
        judged = verdict_lines(res.runs.to_pylist(), mu)
        print("\n" + "\n".join(judged) if judged else "")
        print(("\n" if judged else "") + footer)
    else:
        print(footer, file=sys.stderr)
    return EXIT_OK


RUN = Command(
    "run", "simulate strategies, print a comparison, write Parquet",
    description="Simulate each strategy on the same synthetic workload, "
                "print a comparison table (one row per strategy) and a "
                "verdict per criterion, and write runs.parquet, "
                "buffers.parquet (and with --events-table events.parquet) "
                "into --out.",
    epilog="Examples: fastring run --events 200000 --strategy nofault "
           "--strategy copy_then_commit; fastring run --config my.toml "
           "--set buffer.mode=overwrite --set faults.p_major=1e-3; "
           "fastring run --format csv --columns latency_max_ns,pin_max_ns. "
           "Exit status: 0 success, 1 internal error, 2 bad input.",
    options=options, handler=run)
