"""``fastring config`` and ``fastring strategies``: what a config holds,
printed (the effective config as TOML; every strategy and its program)."""
from __future__ import annotations

import sys
import textwrap

from .common import EXIT_OK, Command, UsageError, add_config_args, overrides


def config_options(p) -> None:
    p.add_argument("--preset", metavar="NAME",
                   help="a tracer preset (tracer.preset: its documented "
                        "buffer, reader, header and capture defaults)")
    add_config_args(p, with_strategies=False)


def config(args) -> int:
    from .. import config as C
    from ..config.doc import config_toml
    sets = overrides(args)
    if args.preset is not None:
        if "preset" not in (C.SCHEMA.get("tracer") or {}):
            raise UsageError(f"--preset {args.preset}: this version of fastring "
                             f"has no tracer presets (no tracer.preset key)")
        sets.insert(0, ("tracer.preset", args.preset))
    cfg = C.load(args.config, sets)
    sys.stdout.write(config_toml(cfg))
    return EXIT_OK


def strategies_options(p) -> None:
    add_config_args(p, with_strategies=False)


def strategies(args) -> int:
    from .. import config as C
    from ..model.strategies import NAMES, describe, program_of
    cfg = C.load(args.config, overrides(args))
    names = [*NAMES, *cfg["strategies"]]
    C.programs(cfg, names)                        # all valid, not only run's
    for name in names:
        program = program_of(name, cfg)
        origin = "defined in the config" if name in cfg["strategies"] else "built in"
        print(f"{name} ({origin})")
        for line in textwrap.wrap(describe(name, cfg) or "(no description)", 76):
            print(f"    {line}")
        for step in program:
            print(f"      {step}")
        print()
    return EXIT_OK


CONFIG = Command(
    "config", "print the full effective config as commented TOML",
    description="Print the full effective config (defaults, then --preset, "
                "--config and --set) as TOML, each key with its default, "
                "range and meaning in a comment. The output loads back "
                "with fastring run --config FILE.",
    epilog="Example: fastring config --set buffer.mode=overwrite > my.toml; "
           "fastring run --config my.toml. Exit status: 0 success, 2 bad "
           "input.",
    options=config_options, handler=config)

STRATEGIES = Command(
    "strategies", "list every strategy with its description and program",
    description="List the built-in strategies, and those a config "
                "defines, with their description and program (see "
                "docs/strategies.md for the step language).",
    epilog="Exit status: 0 success, 2 bad input.",
    options=strategies_options, handler=strategies)
