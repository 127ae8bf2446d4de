"""The ``fastring`` command line: the one argparse tree and its dispatch.

``fastring run``        simulate strategies, print a comparison table, write Parquet
``fastring report``     plots, summary.md and report.html of a results directory
``fastring compare``    two or more results side by side (``fastring.compare``)
``fastring config``     the full effective config as commented TOML
``fastring strategies`` every strategy with its description and program
``fastring sweep``      run a parameter sweep (``fastring.sweep``)
``fastring calibrate``  measure a cost profile for this host (``fastring.calibrate``)
``fastring validate``   a real tracer beside the model's prediction (``fastring.tracers``)
``fastring live``       the strategies on real threads (``fastring.live``)
``fastring fit``        fit a synthetic workload to an strace capture (``fastring.world.fit``)

Each command is a :class:`~.common.Command` in its own module of this
package (``run``, ``report`` and ``compare``, ``config`` and ``strategies``,
``sweep``, ``calibrate``, ``validate``, ``live``, ``fit``); :data:`COMMANDS`
lists them in ``--help`` order. ``python -m fastring.sweep`` and ``python -m
fastring.calibrate`` call :func:`main` with their command name. Only the
named command's options are added to the tree (some need heavy modules for
their help: the output formats, the default worker count), so that building
it for ``fastring --help`` imports neither numba nor pyarrow.

Exit status: 0 success, 1 internal error (rerun with ``--debug`` for the
traceback), 2 bad input (a bad config, option, strategy or file), 130 when
interrupted (Ctrl-C), 143 when terminated (SIGTERM, handled the same way).
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from . import calibrate, config, fit, live, report, run, sweep, validate
from .common import EXIT_BROKEN_PIPE, EXIT_ERROR, EXIT_USAGE, PROG, UsageError, err
from .signals import exit_status, sigterm_as_interrupt

#: every command, in --help order
COMMANDS = (run.RUN, report.REPORT, report.COMPARE, config.CONFIG, config.STRATEGIES,
            sweep.SWEEP, calibrate.CALIBRATE, validate.VALIDATE, live.LIVE, fit.FIT)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The tree, with the options of ``command`` (the others only named)."""
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="Simulate LTTng-style per-CPU tracing ring buffers and "
                    "compare strategies for copying faultable user data into "
                    "them.",
        epilog="Exit status: 0 success, 1 internal error, 2 bad input, "
               "130 interrupted, 143 terminated. "
               "Run 'fastring COMMAND --help' for a command's options.")
    ap.add_argument("--version", action="version", version=_version())
    ap.add_argument("--debug", action="store_true",
                    help="show the full traceback of internal errors")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)
    for c in COMMANDS:
        if c.name != command:
            sub.add_parser(c.name, help=c.help, add_help=False)
            continue
        p = sub.add_parser(c.name, help=c.help, description=c.description,
                           epilog=c.epilog)
        c.options(p)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of internal errors")
        p.set_defaults(handler=c.handler)
    return ap


class _CommandParser(argparse.ArgumentParser):
    """A command's parser: an option it does not know is its own error
    (``fastring sweep: error: unrecognized arguments: ...``, under its usage)."""

    def parse_known_args(self, args=None, namespace=None):
        ns, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return ns, extras


def _version() -> str:
    from ..version import __version__
    return f"fastring {__version__}"


def main(argv=None) -> int:
    """Entry point of the ``fastring`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    head = 0
    while head < len(argv) and argv[head] == "--debug":
        head += 1
    command = argv[head] if head < len(argv) else None
    try:
        with sigterm_as_interrupt():
            return _dispatch(argv, head > 0, command)
    except KeyboardInterrupt as exc:   # before the handler was installed
        return exit_status(exc)


def _dispatch(argv: list[str], debug: bool, command) -> int:
    try:
        ap = _parser(command)
        try:
            args = ap.parse_args(argv)
        except SystemExit as exc:        # --help: 0; bad options: 2
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        debug = debug or getattr(args, "debug", False)
        if args.command is None:
            ap.print_help()
            return EXIT_USAGE
        return args.handler(args)
    except KeyboardInterrupt as exc:
        code = exit_status(exc)
        err("terminated" if code != 130 else "interrupted")
        return code
    except BrokenPipeError:              # `fastring ... | head`: not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())   # no second error at exit
        return EXIT_BROKEN_PIPE
    except Exception as exc:             # noqa: BLE001 - the CLI's last line
        return _failure(exc, debug, command)


def _failure(exc: BaseException, debug: bool, command) -> int:
    from ..config import ConfigError
    from ..model.strategies import ProgramError
    from ..report import ColumnError, MissingExtra
    from ..io.results import OutputDirError
    from ..report.compare import CompareError
    if isinstance(exc, (UsageError, ConfigError, ProgramError, MissingExtra,
                        OutputDirError, ColumnError, CompareError)):
        if debug:
            traceback.print_exc()
        err(exc)
        return EXIT_USAGE
    if debug:
        traceback.print_exc()
    err(f"internal error: {type(exc).__name__}: {exc}")
    print(f"{PROG}: rerun with --debug for the traceback "
          f"(e.g. {PROG} --debug {command or 'run'} ...)", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
