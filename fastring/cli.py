"""The ``fastring`` command line.

``fastring run``     simulate strategies, print a comparison table, write Parquet
``fastring report``  plots and a Markdown summary of a results directory
``fastring sweep``   run a parameter sweep (``fastring.sweep``)
``fastring calibrate`` measure a cost profile for this host (``fastring.calibrate``)
``fastring compare``  a real tracer beside the model's prediction (``fastring.tracers``)

Exit status: 0 success, 1 internal error (rerun with ``--debug`` for the
traceback), 2 bad input (a bad config, option, strategy or file), 130 when
interrupted.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import traceback

PROG = "fastring"
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

DELEGATED = {
    "sweep": ("fastring.sweep", "run a parameter sweep (options: fastring sweep --help)"),
    "calibrate": ("fastring.calibrate",
                  "measure primitive costs on this host and write a cost "
                  "profile (options: fastring calibrate --help)"),
    "compare": ("fastring.tracers",
                "measure a real tracer (lttng-ust, ftrace) beside the "
                "model's prediction (options: fastring compare --help)"),
}


class UsageError(Exception):
    """Bad input from the user (exit status 2)."""


# ------------------------------------------------------------------ parser

def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="Simulate LTTng-style per-CPU tracing ring buffers and "
                    "compare strategies for copying faultable user data into "
                    "them.",
        epilog="Exit status: 0 success, 1 internal error, 2 bad input. "
               "Run 'fastring COMMAND --help' for a command's options.")
    ap.add_argument("--version", action="version", version=_version())
    ap.add_argument("--debug", action="store_true",
                    help="show the full traceback of internal errors")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run", help="simulate strategies, print a comparison, write Parquet",
        description="Simulate each strategy on the same synthetic workload, "
                    "print a comparison table (one row per strategy) and "
                    "write runs.parquet, buffers.parquet (and with "
                    "--events-table events.parquet) into --out.",
        epilog="Examples: fastring run --events 200000 --strategy nofault "
               "--strategy copy_then_commit; fastring run --config my.toml "
               "--set buffer.mode=overwrite --set faults.p_major=1e-3. "
               "Exit status: 0 success, 1 internal error, 2 bad input.")
    run.add_argument("--config", metavar="FILE.toml",
                     help="TOML config file (sections run, machine, buffer, "
                          "reader, workload, faults, costs, strategies); "
                          "defaults fill what it leaves out")
    run.add_argument("--set", dest="sets", action="append", default=[],
                     metavar="SECTION.KEY=VALUE",
                     help="override one config key, e.g. --set "
                          "buffer.subbuf_size=4096 (the value is a TOML value; "
                          "bare words are strings); repeatable, applied after "
                          "--config")
    run.add_argument("--strategy", dest="strategies", action="append",
                     metavar="NAME",
                     help="strategy to run (repeatable; default: run.strategies "
                          "of the config, i.e. all six built-ins: nofault, "
                          "kmalloc_bounce, percpu_retry, copy_then_commit, "
                          "copy_then_commit_atomic, restart_on_fault)")
    run.add_argument("--events", type=_int_arg, metavar="N",
                     help="syscall events per strategy (run.events; default "
                          "1000000)")
    run.add_argument("--seed", type=_int_arg, metavar="N",
                     help="random seed (run.seed; default 1); same seed and "
                          "config give the same tables, bit for bit")
    run.add_argument("--out", default="results/latest", metavar="DIR",
                     help="output directory (default: %(default)s); created "
                          "if missing, files replaced atomically")
    run.add_argument("--events-table", action="store_true",
                     help="also write events.parquet, one row per event "
                          "(streamed to disk as it is produced; a few tens of "
                          "bytes per event)")
    run.add_argument("--jobs", type=_int_arg, metavar="N",
                     help="strategies run in N processes at once (default: "
                          "one per core; same tables; with --events-table, one)")
    run.add_argument("--no-progress", action="store_true",
                     help="no progress bar (it is only shown on a terminal, "
                          "for runs longer than a second)")
    run.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                     help="show the full traceback of internal errors")

    rep = sub.add_parser(
        "report", help="plots and a Markdown summary of a results directory",
        description="Read a results directory (fastring run --out, or a "
                    "sweep's output) and write PNG plots and summary.md: "
                    "latency and preempt-off distributions per strategy, "
                    "pinned time vs loss, and for a sweep each metric against "
                    "each swept parameter. Needs matplotlib "
                    "(pip install 'fastring[plot]').",
        epilog="Exit status: 0 success, 1 internal error, 2 bad input "
               "(no results there, matplotlib missing).")
    rep.add_argument("dir", metavar="DIR", help="results directory")
    rep.add_argument("--out", metavar="DIR",
                     help="where to write the plots and summary.md "
                          "(default: DIR itself)")
    rep.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                     help="show the full traceback of internal errors")

    for name, (_, text) in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)
    return ap


def _int_arg(text: str) -> int:
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


def _version() -> str:
    from . import __version__
    return f"fastring {__version__}"


# ------------------------------------------------------------------ output

def _err(msg: str) -> None:
    line = " ".join(str(msg).split())          # one line
    print(f"{PROG}: error: {line}", file=sys.stderr)


class ProgressBar:
    """A one-line progress bar on stderr, drawn only on a terminal and only
    once the run has taken more than ``delay`` seconds."""

    def __init__(self, strategies: list[str], events: int, stream=None,
                 delay: float = 1.0, enabled: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.strategies = strategies
        self.events = events
        self.delay = delay
        self.t0 = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, strategy: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.t0 < self.delay or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        from .report import fmt_count
        i = self.strategies.index(strategy) if strategy in self.strategies else 0
        n = len(self.strategies)
        whole = n * max(total, 1)
        frac = min(1.0, (i * max(total, 1) + done) / whole)
        width = 24
        fill = int(frac * width)
        elapsed = now - self.t0
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
        eta_s = f"{eta:4.0f}s" if eta == eta else "   ?"
        line = (f"[{'#' * fill}{'.' * (width - fill)}] {100 * frac:3.0f}% "
                f"{strategy} ({i + 1}/{n}) {fmt_count(done)}/{fmt_count(total)} "
                f"events, {elapsed:.0f}s, eta {eta_s}")
        cols = 0
        try:
            cols = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass
        if cols < 20:                      # unknown or absurd: assume 80
            cols = 80
        self.stream.write("\r" + line[:max(cols - 1, 10)].ljust(max(cols - 1, 10)))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False


# ---------------------------------------------------------------- commands

def _overrides(args) -> list[str]:
    out = list(args.sets)
    for item in out:
        key, eq, _ = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--set {item!r}: expected SECTION.KEY=VALUE, "
                             f"e.g. --set buffer.mode=overwrite")
    if args.strategies:
        out.append("run.strategies=" + json.dumps(args.strategies))
    if args.events is not None:
        out.append(f"run.events={args.events}")
    if args.seed is not None:
        out.append(f"run.seed={args.seed}")
    return out


def cmd_run(args) -> int:
    from . import config as C
    from . import strategies as S
    from .report import comparison_table, _unit_symbol
    from .results import ResultsWriter
    from .api import run as run_sim

    cfg = C.load(args.config, _overrides(args))       # bad input: before any file
    S.programs(cfg)
    names = cfg["run"]["strategies"]
    bar = ProgressBar(names, cfg["run"]["events"],
                      enabled=False if args.no_progress else None)
    t0 = time.monotonic()
    try:
        with ResultsWriter(args.out, config=cfg, events=args.events_table) as w:
            res = run_sim(cfg, progress=bar, jobs=args.jobs or None,
                          on_batch=w.write_batch if args.events_table else None)
            paths = w.finish(res)
    finally:
        bar.close()
    elapsed = time.monotonic() - t0
    print(comparison_table(res.runs, micro=_unit_symbol()))
    n = cfg["run"]["events"]
    files = ", ".join(p.name for p in paths.values())
    print(f"\n{len(names)} strateg{'y' if len(names) == 1 else 'ies'} x "
          f"{n} events in {elapsed:.1f}s; wrote {files} to "
          f"{os.path.join(args.out, '')}")
    return EXIT_OK


def cmd_report(args) -> int:
    from .report import make_report
    try:
        written = make_report(args.dir, args.out)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    out = args.out or args.dir
    pngs = [n for n in written if n.endswith(".png")]
    print(f"wrote {len(pngs)} plots ({', '.join(pngs)}) and summary.md to "
          f"{os.path.join(out, '')}")
    return EXIT_OK


def _delegate(name: str, argv: list[str]) -> int:
    import importlib
    module = importlib.import_module(DELEGATED[name][0])
    try:
        rc = module.main(argv)
    except SystemExit as exc:          # argparse inside the sub-command
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return EXIT_OK if rc is None else int(rc)


# -------------------------------------------------------------------- main

def main(argv=None) -> int:
    """Entry point of the ``fastring`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = False
    head = 0
    while head < len(argv) and argv[head] == "--debug":
        debug = True
        head += 1
    command = argv[head] if head < len(argv) else None
    try:
        if command in DELEGATED:
            return _delegate(command, argv[head + 1:])
        ap = _parser()
        try:
            args = ap.parse_args(argv)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        debug = debug or getattr(args, "debug", False)
        if args.command is None:
            ap.print_help()
            return EXIT_USAGE
        return {"run": cmd_run, "report": cmd_report}[args.command](args)
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:             # noqa: BLE001 - the CLI's last line
        return _failure(exc, debug, command)


def _failure(exc: BaseException, debug: bool, command) -> int:
    from .config import ConfigError
    from .strategies import ProgramError
    from .report import MissingExtra
    from .results import OutputDirError
    if isinstance(exc, (UsageError, ConfigError, ProgramError, MissingExtra,
                        OutputDirError)):
        if debug:
            traceback.print_exc()
        _err(exc)
        return EXIT_USAGE
    if (isinstance(exc, ModuleNotFoundError) and command in DELEGATED
            and exc.name == DELEGATED[command][0]):
        _err(f"'{command}' is not available in this installation "
             f"({exc.name} is missing)")
        return EXIT_ERROR
    if debug:
        traceback.print_exc()
    _err(f"internal error: {type(exc).__name__}: {exc}")
    print(f"{PROG}: rerun with --debug for the traceback "
          f"(e.g. {PROG} --debug {command or 'run'} ...)", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
