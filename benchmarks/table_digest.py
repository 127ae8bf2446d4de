#!/usr/bin/env python3
"""Digests of the result tables of a few configs, to prove a change leaves
them identical (a queue or run-queue rewrite, parallel strategies, ...).

Runs every strategy of each config below through ``fastring.run`` and prints
one SHA-256 per config over the ``runs`` table (without the wall-clock
columns ``wall_s`` and ``events_per_s``) and the ``buffers`` table. Run it on
two revisions and diff the output::

    PYTHONPATH=$PWD python benchmarks/table_digest.py [--events 20000] [--jobs N]
"""
from __future__ import annotations

import argparse
import hashlib
import inspect

import fastring

CONFIGS = {
    "default": [],
    "64cpus": ["machine.n_cpus=64"],
    "migrate": ["machine.n_cpus=8", "machine.tasks_per_cpu=8", "machine.p_migrate=0.9",
                "faults.p_major=0.01", "machine.timeslice_ns=2000"],
    "residency-overwrite": ["faults.model=\"residency\"", "buffer.mode=\"overwrite\"",
                            "machine.n_cpus=2", "buffer.n_subbuf=2",
                            "buffer.subbuf_size=4096"],
    "1cpu-major": ["machine.n_cpus=1", "faults.p_major=0.001"],
}
CLOCK_COLUMNS = ("wall_s", "events_per_s")


def digest(res) -> str:
    runs = res.runs.drop([c for c in CLOCK_COLUMNS if c in res.runs.column_names])
    h = hashlib.sha256()
    for table in (runs, res.buffers):
        h.update(repr(table.to_pydict()).encode())
    return h.hexdigest()[:16]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--jobs", type=int, default=None,
                    help="pass jobs=N to fastring.run (when it takes it)")
    args = ap.parse_args(argv)
    kw = {}
    if args.jobs is not None and "jobs" in inspect.signature(fastring.run).parameters:
        kw["jobs"] = args.jobs
    for name, over in CONFIGS.items():
        res = fastring.run(None, overrides=[f"run.events={args.events}", *over], **kw)
        print(f"{name:22s} {digest(res)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
