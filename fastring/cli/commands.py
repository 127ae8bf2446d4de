"""The ``fastring`` command line.

``fastring run``        simulate strategies, print a comparison table, write Parquet
``fastring report``     plots, summary.md and report.html of a results directory
``fastring compare``    two or more results side by side (``fastring.compare``)
``fastring config``     the full effective config as commented TOML
``fastring strategies`` every strategy with its description and program
``fastring sweep``      run a parameter sweep (``fastring.sweep``)
``fastring calibrate``  measure a cost profile for this host (``fastring.calibrate``)
``fastring validate``   a real tracer beside the model's prediction (``fastring.tracers``)
``fastring fit``        fit a synthetic workload to an strace capture (``fastring.world.fit``)

A command is a function ``_add_NAME(sub)`` that adds its sub-parser and sets
``handler``; :data:`COMMANDS` lists them in ``--help`` order. Commands with
their own parser live in :data:`DELEGATED`.

Exit status: 0 success, 1 internal error (rerun with ``--debug`` for the
traceback), 2 bad input (a bad config, option, strategy or file), 130 when
interrupted (Ctrl-C), 143 when terminated (SIGTERM, handled the same way).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from .signals import exit_status, sigterm_as_interrupt

PROG = "fastring"
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 141               # 128 + SIGPIPE, as a shell reports it

DELEGATED = {
    "sweep": ("fastring.sweep", "run a parameter sweep (options: fastring sweep --help)"),
    "calibrate": ("fastring.calibrate",
                  "measure primitive costs on this host and write a cost "
                  "profile (options: fastring calibrate --help)"),
    "validate": ("fastring.tracers",
                "measure a real tracer (lttng-ust, ftrace) beside the "
                "model's prediction (options: fastring validate --help)"),
    "live": ("fastring.live.cli",
             "run the strategies on real threads with real atomics and faults "
             "(options: fastring live --help)"),
    "fit": ("fastring.world.fit", "fit a synthetic workload to an strace capture "
                            "(options: fastring fit --help)"),
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
        epilog="Exit status: 0 success, 1 internal error, 2 bad input, "
               "130 interrupted, 143 terminated. "
               "Run 'fastring COMMAND --help' for a command's options.")
    ap.add_argument("--version", action="version", version=_version())
    ap.add_argument("--debug", action="store_true",
                    help="show the full traceback of internal errors")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        p = add(sub)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of internal errors")
    for name, (_, text) in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)
    return ap


def _add_config_args(p, with_strategies: bool = True) -> None:
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
    p.add_argument("--events", type=_int_arg, metavar="N",
                   help="syscall events per strategy (run.events; default "
                        "1000000)")
    p.add_argument("--seed", type=_int_arg, metavar="N",
                   help="random seed (run.seed; default 1); same seed and "
                        "config give the same tables, bit for bit")


def _add_output_args(p, columns: bool = True) -> None:
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


def _add_run(sub):
    run = sub.add_parser(
        "run", help="simulate strategies, print a comparison, write Parquet",
        description="Simulate each strategy on the same synthetic workload, "
                    "print a comparison table (one row per strategy) and a "
                    "verdict per criterion, and write runs.parquet, "
                    "buffers.parquet (and with --events-table events.parquet) "
                    "into --out.",
        epilog="Examples: fastring run --events 200000 --strategy nofault "
               "--strategy copy_then_commit; fastring run --config my.toml "
               "--set buffer.mode=overwrite --set faults.p_major=1e-3; "
               "fastring run --format csv --columns latency_max_ns,pin_max_ns. "
               "Exit status: 0 success, 1 internal error, 2 bad input.")
    _add_config_args(run)
    run.add_argument("--out", default="results/latest", metavar="DIR",
                     help="output directory (default: %(default)s); created "
                          "if missing, files replaced atomically")
    run.add_argument("--events-table", action="store_true",
                     help="also write events.parquet, one row per event "
                          "(streamed to disk as it is produced; a few tens of "
                          "bytes per event)")
    run.add_argument("--force", action="store_true",
                     help="run even if the run is estimated to take over an "
                          "hour of engine time or over half of this machine's "
                          "memory (refused otherwise, with the estimate)")
    run.add_argument("--jobs", type=_int_arg, metavar="N",
                     help="strategies run in N processes at once (default: "
                          "one per core; same tables; with --events-table, one)")
    run.add_argument("--no-progress", action="store_true",
                     help="no progress bar (it is only shown on a terminal, "
                          "for runs longer than a second)")
    _add_output_args(run)
    run.set_defaults(handler=cmd_run)
    return run


def _add_report(sub):
    rep = sub.add_parser(
        "report", help="plots, summary.md and report.html of a results directory",
        description="Read a results directory (fastring run --out, or a "
                    "sweep's output) and write PNG plots, summary.md and one "
                    "self-contained report.html: latency and preempt-off "
                    "distributions per strategy, pinned time vs loss, and for "
                    "a sweep each metric against each swept parameter. Needs "
                    "matplotlib (pip install 'fastring[plot]').",
        epilog="Exit status: 0 success, 1 internal error, 2 bad input "
               "(no results there, matplotlib missing).")
    rep.add_argument("dir", metavar="DIR", help="results directory")
    rep.add_argument("--out", metavar="DIR",
                     help="where to write the plots, summary.md and "
                          "report.html (default: DIR itself)")
    rep.set_defaults(handler=cmd_report)
    return rep


def _add_compare(sub):
    cmp_ = sub.add_parser(
        "compare", help="two or more results side by side",
        description="Set two or more results directories (runs or sweeps) "
                    "side by side: per strategy and metric, each side's value "
                    "and the absolute and relative change from the first, and "
                    "the config keys that differ. Where both sides hold "
                    "several seeds, say whether a difference exceeds the "
                    "seed-to-seed spread.",
        epilog="Example: fastring compare results/a results/b --format "
               "markdown. Exit status: 0 success, 1 internal error, 2 bad "
               "input.")
    cmp_.add_argument("dirs", nargs="+", metavar="DIR",
                      help="results directories; the first is the baseline")
    cmp_.add_argument("--metrics", action="append", metavar="A,B,...",
                      help="metrics to compare, comma-separated (default: the "
                           "tracer's figures of the run table)")
    _add_output_args(cmp_, columns=False)
    cmp_.set_defaults(handler=cmd_compare)
    return cmp_


def _add_config(sub):
    cfg = sub.add_parser(
        "config", help="print the full effective config as commented TOML",
        description="Print the full effective config (defaults, then --preset, "
                    "--config and --set) as TOML, each key with its default, "
                    "range and meaning in a comment. The output loads back "
                    "with fastring run --config FILE.",
        epilog="Example: fastring config --set buffer.mode=overwrite > my.toml; "
               "fastring run --config my.toml. Exit status: 0 success, 2 bad "
               "input.")
    cfg.add_argument("--preset", metavar="NAME",
                     help="a tracer preset (tracer.preset: its documented "
                          "buffer, reader, header and capture defaults)")
    _add_config_args(cfg, with_strategies=False)
    cfg.set_defaults(handler=cmd_config)
    return cfg


def _add_strategies(sub):
    st = sub.add_parser(
        "strategies", help="list every strategy with its description and program",
        description="List the built-in strategies, and those a config "
                    "defines, with their description and program (see "
                    "docs/strategies.md for the step language).",
        epilog="Exit status: 0 success, 2 bad input.")
    _add_config_args(st, with_strategies=False)
    st.set_defaults(handler=cmd_strategies)
    return st


#: the commands, in --help order: each adds its parser and sets ``handler``
COMMANDS = [_add_run, _add_report, _add_compare, _add_config, _add_strategies]


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
    from ..version import __version__
    return f"fastring {__version__}"


# ------------------------------------------------------------------ output

def _err(msg: str) -> None:
    line = " ".join(str(msg).split())          # one line
    print(f"{PROG}: error: {line}", file=sys.stderr)


# ---------------------------------------------------------------- commands

#: option -> the config key it sets (giving both is a conflict)
OPTION_KEYS = (("--strategy", "strategies", "run.strategies"),
               ("--events", "events", "run.events"),
               ("--seed", "seed", "run.seed"))


def _overrides(args) -> list:
    """``--set`` texts, then the options' values as (key, value) pairs: the
    config takes those as they are (no list re-parsed from text)."""
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
        out.append((key, value))
    return out


def _columns(args) -> list[str] | None:
    names = [n.strip() for item in (getattr(args, "columns", None) or [])
             for n in item.split(",") if n.strip() and n.strip() != "strategy"]
    return names or None


def _check_format(args) -> None:
    from ..report.table import FORMATS
    if args.format not in FORMATS:
        raise UsageError(f"--format: unknown format {args.format!r}; allowed: "
                         f"{', '.join(FORMATS)}")


def cmd_run(args) -> int:
    from .. import config as C
    from ..api import check, run as run_sim
    from ..io.progress import ProgressBar, warm_up
    from ..report import columns_for, render, unit_symbol, verdict_lines
    from ..io.results import ResultsWriter

    _check_format(args)
    columns = _columns(args)
    cfg = C.load(args.config, _overrides(args))       # bad input: before any file
    check(cfg, force=args.force)                      # too big: before any file
    names = cfg["run"]["strategies"]
    with ResultsWriter(args.out, config=cfg, events=args.events_table) as w:
        tiny = warm_up(cfg, force=args.force)  # compile or load the kernels
        columns_for(columns, tiny.runs.column_names)   # any runs column may be named
        bar = ProgressBar(names, cfg["run"]["events"],
                          enabled=False if args.no_progress else None)
        t0 = time.monotonic()
        try:
            res = run_sim(cfg, progress=bar, jobs=args.jobs or None, force=args.force,
                          on_batch=w.write_batch if args.events_table else None)
        finally:
            bar.close()
        paths = w.finish(res)
    elapsed = time.monotonic() - t0
    mu = unit_symbol()
    print(render(res.runs, args.format, columns=columns, micro=mu))
    n = cfg["run"]["events"]
    simulated = sum(r["events"] for r in res.runs.to_pylist())
    files = ", ".join(p.name for p in paths.values())
    footer = (f"simulator: {len(names)} strateg{'y' if len(names) == 1 else 'ies'} "
              f"x {n} events in {elapsed:.1f}s ({simulated / max(elapsed, 1e-9):,.0f} "
              f"events/s simulated, not a tracer figure); wrote {files} to "
              f"{os.path.join(args.out, '')}")
    if args.format in ("table", "markdown"):
        judged = verdict_lines(res.runs.to_pylist(), mu)
        print("\n" + "\n".join(judged) if judged else "")
        print(("\n" if judged else "") + footer)
    else:
        print(footer, file=sys.stderr)
    return EXIT_OK


def cmd_report(args) -> int:
    from ..report import make_report
    try:
        written = make_report(args.dir, args.out)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    out = args.out or args.dir
    pngs = [n for n in written if n.endswith(".png")]
    print(f"wrote {len(pngs)} plots ({', '.join(pngs)}), summary.md and "
          f"report.html to {os.path.join(out, '')}")
    return EXIT_OK


def cmd_compare(args) -> int:
    from ..report.compare import compare, load_side
    from ..report import unit_symbol
    _check_format(args)
    if len(args.dirs) < 2:
        raise UsageError(f"compare: needs two or more results directories, "
                         f"got {len(args.dirs)} ({', '.join(args.dirs)})")
    sides = [load_side(d) for d in args.dirs]
    metrics = _columns(argparse.Namespace(columns=args.metrics))
    print(compare(sides, metrics=metrics, fmt=args.format, micro=unit_symbol()))
    return EXIT_OK


def cmd_config(args) -> int:
    from .. import config as C
    from ..config.doc import config_toml
    overrides = _overrides(args)
    if args.preset is not None:
        if "preset" not in (C.SCHEMA.get("tracer") or {}):
            raise UsageError(f"--preset {args.preset}: this version of fastring "
                             f"has no tracer presets (no tracer.preset key)")
        overrides.insert(0, ("tracer.preset", args.preset))
    cfg = C.load(args.config, overrides)
    sys.stdout.write(config_toml(cfg))
    return EXIT_OK


def cmd_strategies(args) -> int:
    from .. import config as C
    from ..model.strategies import NAMES, describe, program_of
    cfg = C.load(args.config, _overrides(args))
    names = [*NAMES, *cfg["strategies"]]
    C.programs(cfg, names)                        # all valid, not only run's
    for name in names:
        program = program_of(name, cfg)
        origin = "defined in the config" if name in cfg["strategies"] else "built in"
        print(f"{name} ({origin})")
        import textwrap
        for line in textwrap.wrap(describe(name, cfg) or "(no description)", 76):
            print(f"    {line}")
        for step in program:
            print(f"      {step}")
        print()
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
    head = 0
    while head < len(argv) and argv[head] == "--debug":
        head += 1
    command = argv[head] if head < len(argv) else None
    try:
        with sigterm_as_interrupt():
            return _dispatch(argv, head, command)
    except KeyboardInterrupt as exc:   # before the handler was installed
        return exit_status(exc)


def _dispatch(argv: list[str], head: int, command) -> int:
    debug = head > 0
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
        return args.handler(args)
    except KeyboardInterrupt as exc:
        code = exit_status(exc)
        _err("terminated" if code != 130 else "interrupted")
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
    from ..report import MissingExtra
    from ..io.results import OutputDirError
    from ..report import ColumnError
    from ..report.compare import CompareError
    if isinstance(exc, (UsageError, ConfigError, ProgramError, MissingExtra,
                        OutputDirError, ColumnError, CompareError)):
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
