"""``fastring fit``: a synthetic workload fitted to an strace capture
(:mod:`fastring.world.fit`)."""
from __future__ import annotations

import os
import sys

from .common import Command

SAY = "fastring fit:"


def options(p) -> None:
    p.add_argument("trace", metavar="TRACE", help="the strace capture")
    p.add_argument("--out", metavar="FILE.toml",
                   help="write the fitted config there (load it with fastring "
                        "run --config FILE.toml)")
    p.add_argument("--cpus", type=int, default=4, metavar="N",
                   help="machine.n_cpus the tasks are spread over (default 4)")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip (and count) lines that are not strace output "
                        "instead of stopping at the first one")


def fit(args) -> int:
    from ..io.atomic import write_atomic
    from ..world.fit import fit, summary, to_toml
    from ..world.strace import TraceError, parse
    if args.cpus < 1:
        print(f"{SAY} --cpus: must be >= 1, got {args.cpus}", file=sys.stderr)
        return 2
    try:
        cap = parse(args.trace, args.skip_bad)
    except TraceError as exc:
        print(f"{SAY} error: {exc}", file=sys.stderr)
        return 2
    cfg = fit(cap, args.cpus)
    print(summary(cap, cfg))
    if args.out:
        header = (f"fitted by `fastring fit` from {os.path.basename(args.trace)}: "
                  f"{len(cap)} syscalls, {len(cap.pids)} pids")
        try:
            write_atomic(args.out, to_toml(cfg, header))
        except OSError as exc:
            print(f"{SAY} error: --out {args.out}: {exc.strerror or exc}",
                  file=sys.stderr)
            return 2
        print(f"wrote {args.out}")
    return 0


FIT = Command(
    "fit", "fit a synthetic workload to an strace capture "
           "(options: fastring fit --help)",
    description="Fit a synthetic workload (syscall mix, payload "
                "lengths, think time, tasks) to an strace capture (strace -f "
                "-tt|-ttt -T -s N [-yy] -o FILE CMD; plain or gzip) and print "
                "what it found.",
    epilog="Exit status: 0 success, 2 bad input (not strace output, empty "
           "capture, unwritable --out).",
    options=options, handler=fit)
