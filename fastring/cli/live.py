"""``fastring live``: the strategies on real threads (:mod:`fastring.live`,
see docs/live.md).

Takes ``fastring run``'s config options plus ``--threads``; prints one row
per strategy (measured against the simulator's prediction), says plainly
when commits were lost, and writes runs.parquet and buffers.parquet into
``--out`` only once every strategy has finished. Exit status: 0 success
(lost commits included: finding them is the point), 1 internal error, 2 bad
input, 130 on Ctrl-C and 143 on SIGTERM (nothing written).
"""
from __future__ import annotations

import os
import sys

from .common import EXIT_OK, Command, add_config_args, err, int_arg, overrides
from .signals import exit_status

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


def options(p) -> None:
    add_config_args(p)                    # as fastring run takes them
    p.add_argument("--threads", type=int_arg, metavar="N",
                   help="writer threads, one per simulated CPU (default: the "
                        "usable cores, at least 2); more than the cores is "
                        "allowed, with a warning")
    p.add_argument("--out", default="results/live-run", metavar="DIR",
                   help="output directory (default: results/live-run)")
    p.add_argument("--no-predict", action="store_true",
                   help="skip the simulator's prediction beside each run")
    p.add_argument("--no-progress", action="store_true", help="no progress line")


def table(runs) -> str:
    rows = [[fmt.format(r[c]) if r[c] == r[c] else "-" for c, _, fmt in COLUMNS]
            for r in runs.to_pylist()]
    head = [h for _, h, _ in COLUMNS]
    width = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, width)))
    return "\n".join([line(head), *map(line, rows)])


def live(args) -> int:
    """Bad input and internal errors go to the CLI's last line
    (:func:`fastring.cli.commands.main`)."""
    from ..io.results import ResultsWriter
    from ..live.run import default_threads, live, result_lines

    threads = args.threads if args.threads is not None else default_threads()
    show = not args.no_progress and sys.stderr.isatty()
    print(f"fastring live: {threads} writer thread(s) starting (Ctrl-C "
          f"stops them; nothing is written then)", file=sys.stderr, flush=True)

    def progress(name, done, total):
        if show:
            print(f"\r{name}: {done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        res = live(args.config, overrides=overrides(args), threads=threads,
                   predict=not args.no_predict, progress=progress,
                   warn=lambda msg: print(f"fastring: warning: {msg}",
                                          file=sys.stderr))
        if show:
            print(file=sys.stderr)
        with ResultsWriter(args.out, config=res.config) as w:
            paths = w.finish(res)
    except KeyboardInterrupt as exc:     # Ctrl-C, or SIGTERM (.signals)
        err("interrupted: threads stopped, nothing written")
        return exit_status(exc)
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


LIVE = Command(
    "live", "run the strategies on real threads with real atomics and faults "
            "(options: fastring live --help)",
    description="Run the strategies on real threads: one writer thread per "
                "CPU (pinned where allowed) owning that CPU's ring buffer, "
                "real atomics, a reader thread that checks every record "
                "byte for byte, injected or real page faults. Prints "
                "measured against simulated ns per event and writes "
                "runs.parquet and buffers.parquet into --out.",
    epilog="Example: fastring live --events 200000 --threads 2; "
           "fastring live --config examples/live_unsafe.toml (the lost-"
           "commit bug, on purpose). Exit status: 0 success, 1 internal "
           "error, 2 bad input, 130 interrupted.",
    options=options, handler=live)
