"""``fastring validate``: a real tracer's ns per event on this host beside
the model's prediction (:mod:`fastring.tracers`). A tracer that is not
installed or cannot run is bad input: exit status 2, with the reason and the
install command."""
from __future__ import annotations

import sys
from pathlib import Path

from .common import EXIT_OK, EXIT_USAGE, Command

DEFAULT_PROFILE = "results/calibration/host.toml"


def options(p) -> None:
    p.add_argument("tracer", choices=("lttng-ust", "ftrace"))
    p.add_argument("--events", type=int, default=1_000_000,
                   help="events per run and thread (capped per case so that "
                        "nothing is discarded; default %(default)s)")
    p.add_argument("--runs", type=int, default=7,
                   help="timed runs per case, median taken (default "
                        "%(default)s)")
    p.add_argument("--profile", default=None, metavar="FILE",
                   help="host cost profile for the prediction (default: "
                        f"{DEFAULT_PROFILE} if it exists, else a quick "
                        "`fastring calibrate`)")
    p.add_argument("--sim-events", type=int, default=20_000,
                   help="events per simulated case (default %(default)s)")
    p.add_argument("--perf", action="store_true",
                   help="split the real tracer's time by library with perf "
                        "record (lttng-ust)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="also write the table (Markdown) to FILE")


def _profile(arg, work: Path) -> str:
    """The profile the prediction uses: ``--profile``, else
    :data:`DEFAULT_PROFILE`, else a quick calibration into ``work``."""
    if arg is not None:
        return arg
    if Path(DEFAULT_PROFILE).is_file():
        return DEFAULT_PROFILE
    from .. import calibrate
    path = work / "host.toml"
    calibrate.write_profile(calibrate.measure(quick=True), path)
    return str(path)


def validate(args) -> int:
    import tempfile
    from ..io.atomic import write_atomic
    from ..tracers import Unavailable, machine_facts
    from ..world import costs
    if min(args.events, args.runs, args.sim_events) < 1:
        print("fastring validate: --events, --runs and --sim-events must be "
              ">= 1", file=sys.stderr)
        return EXIT_USAGE
    if args.runs > 64:
        print("fastring validate: --runs must be <= 64", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.tracer == "lttng-ust":
            from ..tracers import lttng_ust as T
        else:
            from ..tracers import ftrace as T
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


VALIDATE = Command(
    "validate", "measure a real tracer (lttng-ust, ftrace) beside the "
                "model's prediction (options: fastring validate --help)",
    description="Measure a real tracer's ns per event on this host and "
                "print it beside the model's prediction.",
    epilog=None, options=options, handler=validate)
