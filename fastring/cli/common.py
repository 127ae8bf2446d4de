"""What every command shares: the exit statuses, bad input
(:class:`UsageError`), the error line, the :class:`Command` record each
command module fills in, and the option groups several commands take (the
config options of ``run``, ``live``, ``config``, ``strategies``; the output
format). Light on purpose: ``fastring --help`` imports it and nothing heavy.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

PROG = "fastring"
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 141               # 128 + SIGPIPE, as a shell reports it


class UsageError(Exception):
    """Bad input from the user (exit status 2)."""


@dataclass(frozen=True)
class Command:
    """One ``fastring NAME``: its line in ``fastring --help``, the texts of its
    own ``--help``, ``options(parser)`` that adds its options, and
    ``handler(args)`` that runs it and returns the exit status."""
    name: str
    help: str
    description: str
    epilog: str | None
    options: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]


def err(msg: str) -> None:
    """``fastring: error: MSG`` on stderr, on one line."""
    line = " ".join(str(msg).split())
    print(f"{PROG}: error: {line}", file=sys.stderr)


def int_arg(text: str) -> int:
    """A non-negative integer option: ``1000``, ``0x10``, ``1e6``."""
    try:
        v = float(text) if any(c in text for c in ".eE") else int(text, 0)
        if isinstance(v, float):
            if not v.is_integer():
                raise ValueError
            v = int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(
            f"must be a non-negative integer, got {text!r}")
    return v


# ------------------------------------------------------------- config options

def add_config_args(p, with_strategies: bool = True) -> None:
    """--config, --set (and --strategy, --events, --seed): how every command
    that builds a config takes it."""
    p.add_argument("--config", metavar="FILE.toml",
                   help="TOML config file (sections run, machine, buffer, "
                        "reader, workload, faults, costs, strategies); "
                        "defaults fill what it leaves out")
    p.add_argument("--set", dest="sets", action="append", default=[],
                   metavar="SECTION.KEY=VALUE",
                   help="override one config key, e.g. --set "
                        "buffer.subbuf_size=4096 (the value is a TOML value; "
                        "bare words are strings); repeatable, applied after "
                        "--config")
    if not with_strategies:
        return
    p.add_argument("--strategy", dest="strategies", action="append",
                   metavar="NAME",
                   help="strategy to run (repeatable; default: run.strategies "
                        "of the config, i.e. all six built-ins; see fastring "
                        "strategies)")
    p.add_argument("--events", type=int_arg, metavar="N",
                   help="syscall events per strategy (run.events; default "
                        "1000000)")
    p.add_argument("--seed", type=int_arg, metavar="N",
                   help="random seed (run.seed; default 1); same seed and "
                        "config give the same tables, bit for bit")


#: option -> the config key it sets (giving both is a conflict)
OPTION_KEYS = (("--strategy", "strategies", "run.strategies"),
               ("--events", "events", "run.events"),
               ("--seed", "seed", "run.seed"))


def overrides(args) -> list:
    """The ``--set`` texts, then the options of :data:`OPTION_KEYS` as
    ``(key, value)`` pairs that the config takes as they are (no list
    re-parsed from text); an option and a ``--set`` of the same key are a
    :class:`UsageError`."""
    out = list(args.sets)
    for item in out:
        key, eq, _ = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--set {item!r}: expected SECTION.KEY=VALUE, "
                             f"e.g. --set buffer.mode=overwrite")
    keys = {item.partition("=")[0].strip(): item for item in out}
    for option, attr, key in OPTION_KEYS:
        value = getattr(args, attr, None)
        if value is None:
            continue
        if key in keys:
            shown = " ".join(f"{option} {v}" for v in value) if isinstance(value, list) \
                else f"{option} {value}"
            raise UsageError(f"{shown} and --set {keys[key]} both set {key}; "
                             f"give one of them")
        out.append((key, value))           # taken as is: no list re-parsed from text
    return out


# ------------------------------------------------------------- output options

def add_output_args(p, columns: bool = True) -> None:
    from ..report.table import FORMATS
    p.add_argument("--format", default="table", metavar="FORMAT",
                   help=f"output on stdout: {', '.join(FORMATS)} (default: "
                        f"%(default)s; csv and json carry raw numbers)")
    if columns:
        p.add_argument("--columns", action="append", metavar="A,B,...",
                       help="columns to show, comma-separated (repeatable): "
                            "a name of fastring.report.COLUMNS (cpu_ns_per_event, "
                            "latency_p99_ns, pin_max_ns, lost, data_missing, "
                            "copy_amp, events_per_s, ...) or any column of the "
                            "runs table")


def names(items) -> list[str] | None:
    """Repeatable comma-separated names (``--columns``, ``--metrics``), in
    order; None when none was given."""
    out = [n.strip() for item in (items or []) for n in item.split(",")
           if n.strip() and n.strip() != "strategy"]
    return out or None


def check_format(args) -> None:
    from ..report.table import FORMATS
    if args.format not in FORMATS:
        raise UsageError(f"--format: unknown format {args.format!r}; allowed: "
                         f"{', '.join(FORMATS)}")
