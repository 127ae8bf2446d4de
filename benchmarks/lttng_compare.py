#!/usr/bin/env python3
"""Real LTTng-UST beside fastring's prediction: ``fastring validate lttng-ust``.

Kept so that ``python benchmarks/lttng_compare.py [options]`` still works;
the comparison itself lives in :mod:`fastring.tracers.lttng_ust`, the
command in :mod:`fastring.cli.validate` (options: ``--events``, ``--runs``,
``--profile``, ``--perf``, ``--out``). Like the
command, it exits 2 with the install command when LTTng-UST is missing.
"""
from __future__ import annotations

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:          # run from a checkout without install
    sys.path.insert(0, str(_REPO))

from fastring.cli.commands import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["validate", "lttng-ust", *sys.argv[1:]]))
