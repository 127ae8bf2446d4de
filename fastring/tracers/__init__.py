"""``fastring validate``: the model against real tracers on this host.

``fastring validate lttng-ust`` runs real LTTng-UST sessions
(:mod:`fastring.tracers.lttng_ust`); ``fastring validate ftrace`` writes to the
kernel's ``trace_marker`` (:mod:`fastring.tracers.ftrace`). Each measures ns
per event, predicts the same cases with the model on a host cost profile, and
writes a side-by-side Markdown table. A tracer that is not installed or
cannot run is bad input for this command: exit status 2, with the reason and
the install command.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..io.atomic import write_atomic
from ._common import Unavailable, machine_facts

__all__ = ["main", "Unavailable"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
DEFAULT_PROFILE = "results/calibration/host.toml"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="fastring validate",
        description="Measure a real tracer's ns per event on this host and "
                    "print it beside the model's prediction.")
    ap.add_argument("tracer", choices=("lttng-ust", "ftrace"))
    ap.add_argument("--events", type=int, default=1_000_000,
                    help="events per run and thread (capped per case so that "
                         "nothing is discarded; default %(default)s)")
    ap.add_argument("--runs", type=int, default=7,
                    help="timed runs per case, median taken (default "
                         "%(default)s)")
    ap.add_argument("--profile", default=None, metavar="FILE",
                    help="host cost profile for the prediction (default: "
                         f"{DEFAULT_PROFILE} if it exists, else a quick "
                         "`fastring calibrate`)")
    ap.add_argument("--sim-events", type=int, default=20_000,
                    help="events per simulated case (default %(default)s)")
    ap.add_argument("--perf", action="store_true",
                    help="split the real tracer's time by library with perf "
                         "record (lttng-ust)")
    ap.add_argument("--out", default=None, metavar="FILE",
                    help="also write the table (Markdown) to FILE")
    return ap


def _profile(arg, work: Path) -> str:
    if arg is not None:
        return arg
    if Path(DEFAULT_PROFILE).is_file():
        return DEFAULT_PROFILE
    from fastring import calibrate
    path = work / "host.toml"
    calibrate.write_profile(calibrate.measure(quick=True), path)
    return str(path)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if min(args.events, args.runs, args.sim_events) < 1:
        print("fastring validate: --events, --runs and --sim-events must be "
              ">= 1", file=sys.stderr)
        return EXIT_USAGE
    if args.runs > 64:
        print("fastring validate: --runs must be <= 64", file=sys.stderr)
        return EXIT_USAGE
    import tempfile
    from fastring.world import costs
    try:
        if args.tracer == "lttng-ust":
            from . import lttng_ust as T
            T.check()
        else:
            from . import ftrace as T
            T.check()
        with tempfile.TemporaryDirectory(prefix="fastring-compare-") as d:
            profile = _profile(args.profile, Path(d))
            costs.load_profile(profile)
            res = T.compare(args.events, args.runs, profile, args.sim_events,
                            perf=args.perf)
            text = T.format_report(res, machine_facts())
    except Unavailable as exc:
        print(f"fastring validate {args.tracer}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:                 # a bad profile
        print(f"fastring validate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(text)
    if args.out:
        write_atomic(Path(args.out), text)
        print(f"wrote {args.out}")
    return EXIT_OK
