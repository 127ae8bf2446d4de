"""``fastring live``: the command line of live mode (see docs/live.md).

Takes ``fastring run``'s config options plus ``--threads``; prints one row
per strategy (measured against the simulator's prediction), says plainly
when commits were lost, and writes runs.parquet and buffers.parquet into
``--out`` only once every strategy has finished. Exit status: 0 success
(lost commits included: finding them is the point), 1 internal error, 2 bad
input, 130 on Ctrl-C and 143 on SIGTERM (nothing written).
"""
from __future__ import annotations

import argparse
import os
import sys

from ..cli.commands import (EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    _add_config_args,
    _err,
    _int_arg,
    _overrides)
from ..cli.signals import exit_status  # SIGTERM: fastring.cli installs it

COLUMNS = (("strategy", "strategy", "{}"), ("events", "events", "{}"),
           ("delivered", "delivered", "{}"), ("undelivered", "undelivered", "{}"),
           ("mismatches", "mismatch", "{}"), ("lost_full", "lost_full", "{}"),
           ("lost_wrap", "lost_wrap", "{}"), ("data_missing", "missing", "{}"),
           ("commits_remote", "remote", "{}"), ("faults_minor", "f_minor", "{}"),
           ("faults_major", "f_major", "{}"),
           ("predicted_cpu_ns_per_event", "model ns/ev", "{:.0f}"),
           ("cpu_ns_per_event", "live ns/ev", "{:.0f}"),
           ("cpu_ns_p50", "live p50", "{:.0f}"),
           ("events_per_s", "events/s", "{:.0f}"))


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="fastring live",
        description="Run the strategies on real threads: one writer thread per "
                    "CPU (pinned where allowed) owning that CPU's ring buffer, "
                    "real atomics, a reader thread that checks every record "
                    "byte for byte, injected or real page faults. Prints "
                    "measured against simulated ns per event and writes "
                    "runs.parquet and buffers.parquet into --out.",
        epilog="Example: fastring live --events 200000 --threads 2; "
               "fastring live --config examples/live_unsafe.toml (the lost-"
               "commit bug, on purpose). Exit status: 0 success, 1 internal "
               "error, 2 bad input, 130 interrupted.")
    _add_config_args(ap)                  # as fastring run takes them
    ap.add_argument("--threads", type=_int_arg, metavar="N",
                    help="writer threads, one per simulated CPU (default: the "
                         "usable cores, at least 2); more than the cores is "
                         "allowed, with a warning")
    ap.add_argument("--out", default="results/live-run", metavar="DIR",
                    help="output directory (default: results/live-run)")
    ap.add_argument("--no-predict", action="store_true",
                    help="skip the simulator's prediction beside each run")
    ap.add_argument("--no-progress", action="store_true", help="no progress line")
    return ap


def table(runs) -> str:
    rows = [[fmt.format(r[c]) if r[c] == r[c] else "-" for c, _, fmt in COLUMNS]
            for r in runs.to_pylist()]
    head = [h for _, h, _ in COLUMNS]
    width = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, width)))
    return "\n".join([line(head), *map(line, rows)])


def main(argv=None) -> int:
    from ..config import ConfigError
    from ..io.results import ResultsWriter
    from ..model.strategies import ProgramError
    from .run import default_threads, live, result_lines

    args = _parser().parse_args(argv)
    try:
        threads = args.threads if args.threads is not None else default_threads()
        show = not args.no_progress and sys.stderr.isatty()
        print(f"fastring live: {threads} writer thread(s) starting (Ctrl-C "
              f"stops them; nothing is written then)", file=sys.stderr, flush=True)

        def progress(name, done, total):
            if show:
                print(f"\r{name}: {done}/{total}", end="", file=sys.stderr, flush=True)

        res = live(args.config, overrides=_overrides(args), threads=threads,
                   predict=not args.no_predict, progress=progress,
                   warn=lambda msg: print(f"fastring: warning: {msg}",
                                          file=sys.stderr))
        if show:
            print(file=sys.stderr)
        with ResultsWriter(args.out, config=res.config) as w:
            paths = w.finish(res)
        print(table(res.runs))
        print()
        for line in result_lines(res.runs):
            print(line)
        if not args.no_predict:
            print(f"model ns/ev: the simulator on the same config with "
                  f"costs.profile = {res.config['costs']['profile']!r} (for this "
                  f"host: fastring calibrate, then --set costs.profile=FILE)")
        files = ", ".join(p.name for p in paths.values())
        print(f"\n{threads} writer thread(s); wrote {files} to {os.path.join(args.out, '')}")
        return EXIT_OK
    except (UsageError, ConfigError, ProgramError) as exc:
        _err(exc)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:     # Ctrl-C, or SIGTERM (fastring.cli.signals)
        _err("interrupted: threads stopped, nothing written")
        return exit_status(exc)
    except Exception as exc:             # noqa: BLE001 - the CLI's last line
        _err(f"internal error: {type(exc).__name__}: {exc}")
        return EXIT_ERROR
