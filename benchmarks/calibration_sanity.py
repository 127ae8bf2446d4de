#!/usr/bin/env python3
"""Host-timing sanity of a quick calibration, moved out of the unit tests
(on a shared or busy machine these orderings can fail without any bug):

* a locked add costs more than a plain one;
* a pipe ping-pong round trip (two switches plus two write+read pairs) takes
  longer than two write+read pairs alone;
* a minor fault takes more than 50 ns.

Prints each check with the medians it compared; exit status 1 if one fails::

    PYTHONPATH=$PWD python benchmarks/calibration_sanity.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import sys

from fastring import calibrate


def checks(res: dict) -> list[tuple[str, bool, str]]:
    c, m = res["costs"], res["measured"]
    out = [("atomic_add > local_add",
            c["atomic_add"]["median"] > c["local_add"]["median"],
            f'{c["atomic_add"]["median"]:.3g} vs {c["local_add"]["median"]:.3g} ns')]
    if "pingpong_round_trip" in m and "pipe_write_read" in m:
        rt, wr = m["pingpong_round_trip"]["median"], m["pipe_write_read"]["median"]
        out.append(("pingpong_round_trip > 2 * pipe_write_read", rt > 2 * wr,
                    f"{rt:.3g} vs 2 x {wr:.3g} ns"))
    if "minor_fault" in m:
        mf = m["minor_fault"]["median"]
        out.append(("minor_fault > 50 ns", mf > 50, f"{mf:.3g} ns"))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    results = checks(calibrate.measure(repeats=args.repeats, quick=True))
    for name, ok, detail in results:
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
