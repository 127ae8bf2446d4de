"""``fastring calibrate`` (also ``python -m fastring.calibrate``): measure a
cost profile on this host (:mod:`fastring.calibrate`)."""
from __future__ import annotations

import argparse
import sys

from .common import Command


def _repeats(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("--repeats must be >= 1")
    return n


def options(p) -> None:
    p.add_argument("--out", default="calibrated.toml", metavar="FILE",
                   help="profile file to write (default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="fewer, shorter runs: rougher figures in seconds")
    p.add_argument("--repeats", type=_repeats, default=None, metavar="N",
                   help="runs per figure, median taken (default: 31, "
                        "7 with --quick)")


def calibrate(args) -> int:
    from .. import calibrate as K
    try:
        results = K.measure(repeats=args.repeats, quick=args.quick)
    except K.CalibrationError as exc:
        print(f"fastring calibrate: {exc}", file=sys.stderr)
        return 1
    print(K.format_table(results))
    path = K.write_profile(results, args.out)
    print()
    print(f"wrote {path} ({results['params']['elapsed_s']:.1f} s); use it "
          f"with costs.profile = \"{path}\"")
    mf = results["measured"].get("minor_fault")
    if mf is not None:
        print(f"hint: minor page fault median {mf['median']:.0f} ns: set "
              f"faults.minor_ns = {round(mf['median'])} in your run config "
              f"(--set faults.minor_ns={round(mf['median'])})")
    return 0


CALIBRATE = Command(
    "calibrate", "measure primitive costs on this host and write a cost "
                 "profile (options: fastring calibrate --help)",
    description="Measure primitive costs (atomics, cmpxchg, memcpy, "
                "malloc+free, clock read, minor fault) on this host and "
                "write a cost profile that costs.profile = FILE loads.",
    epilog=None, options=options, handler=calibrate)
