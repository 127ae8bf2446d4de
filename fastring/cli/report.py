"""``fastring report`` and ``fastring compare``: the commands that read
results directories back."""
from __future__ import annotations

import os

from .common import EXIT_OK, Command, UsageError, add_output_args, check_format, names


def report_options(p) -> None:
    p.add_argument("dir", metavar="DIR", help="results directory")
    p.add_argument("--out", metavar="DIR",
                   help="where to write the plots, summary.md and "
                        "report.html (default: DIR itself)")


def report(args) -> int:
    from ..report import make_report
    try:
        written = make_report(args.dir, args.out)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    out = args.out or args.dir
    pngs = [n for n in written if n.endswith(".png")]
    print(f"wrote {len(pngs)} plots ({', '.join(pngs)}), summary.md and "
          f"report.html to {os.path.join(out, '')}")
    return EXIT_OK


def compare_options(p) -> None:
    p.add_argument("dirs", nargs="+", metavar="DIR",
                   help="results directories; the first is the baseline")
    p.add_argument("--metrics", action="append", metavar="A,B,...",
                   help="metrics to compare, comma-separated (default: the "
                        "tracer's figures of the run table)")
    add_output_args(p, columns=False)


def compare(args) -> int:
    from ..report.compare import compare, load_side
    from ..report import unit_symbol
    check_format(args)
    if len(args.dirs) < 2:
        raise UsageError(f"compare: needs two or more results directories, "
                         f"got {len(args.dirs)} ({', '.join(args.dirs)})")
    sides = [load_side(d) for d in args.dirs]
    print(compare(sides, metrics=names(args.metrics), fmt=args.format,
                  micro=unit_symbol()))
    return EXIT_OK


REPORT = Command(
    "report", "plots, summary.md and report.html of a results directory",
    description="Read a results directory (fastring run --out, or a "
                "sweep's output) and write PNG plots, summary.md and one "
                "self-contained report.html: latency and preempt-off "
                "distributions per strategy, pinned time vs loss, and for "
                "a sweep each metric against each swept parameter. Needs "
                "matplotlib (pip install 'fastring[plot]').",
    epilog="Exit status: 0 success, 1 internal error, 2 bad input "
           "(no results there, matplotlib missing).",
    options=report_options, handler=report)

COMPARE = Command(
    "compare", "two or more results side by side",
    description="Set two or more results directories (runs or sweeps) "
                "side by side: per strategy and metric, each side's value "
                "and the absolute and relative change from the first, and "
                "the config keys that differ. Where both sides hold "
                "several seeds, say whether a difference exceeds the "
                "seed-to-seed spread.",
    epilog="Example: fastring compare results/a results/b --format "
           "markdown. Exit status: 0 success, 1 internal error, 2 bad "
           "input.",
    options=compare_options, handler=compare)
