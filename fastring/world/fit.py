"""A synthetic workload with a capture's statistics, for runs of any length
(the command line, ``fastring fit TRACE [--out FILE.toml]``, is
:mod:`fastring.cli.fit`).

What it fits (from :mod:`fastring.world.strace` and :mod:`fastring.world.capture`):

* **kinds and weights**: one kind per syscall name, weighted by its count;
* **payload type per kind**: ``buffer`` (read/write families), ``string``
  (calls with string arguments), ``none``;
* **per-kind length**: a lognormal whose median is the median of the
  kind's full payload lengths (before any capture policy: the policy applies
  at run time) and whose sigma is the standard deviation of their logs
  (zero lengths, a read at end of file, are left out of the sigma);
* **tasks**: the mean number of pids alive at once (each pid alive from its
  first syscall to its last), spread over ``machine.n_cpus`` CPUs
  (``tasks_per_cpu``, at least 1);
* **think time**: the mean that gives the capture's syscall rate with that
  many tasks (``tasks x duration / syscalls``).

The file it writes is a partial config: ``fastring run --config FILE``
(or :func:`fastring.config.load`) fills in the rest.
"""
from __future__ import annotations

import numpy as np

from .. import _toml
from .capture import kind_payloads, raw_lengths
from .strace import Capture, parse


def fit_mix(cap: Capture) -> dict[str, dict]:
    """``workload.syscalls`` for the capture: kind -> weight, payload, length."""
    payloads = kind_payloads(cap)
    raw = raw_lengths(cap, payloads)
    counts = np.bincount(cap.kind, minlength=len(cap.names))
    mix = {}
    for k, name in enumerate(cap.names):
        entry = {"weight": float(counts[k]), "payload": payloads[k],
                 "len_median": 1.0, "len_sigma": 0.0}
        if payloads[k] != "none":
            x = raw[cap.kind == k]
            entry["len_median"] = float(max(1.0, np.median(x)))
            pos = x[x > 0]
            entry["len_sigma"] = (round(float(np.std(np.log(pos))), 4)
                                  if len(pos) > 1 else 0.0)
        mix[name] = entry
    return mix


def concurrency(cap: Capture) -> float:
    """Mean number of pids alive at once (first to last syscall)."""
    first = np.full(len(cap.pids), np.iinfo(np.int64).max)
    last = np.zeros(len(cap.pids), np.int64)
    np.minimum.at(first, cap.pid, cap.t_ns)
    np.maximum.at(last, cap.pid, cap.t_ns)
    span = int(cap.t_ns.max() - cap.t_ns.min())
    return float((last - first).sum() / span) if span > 0 else 1.0


def fit(cap: Capture, n_cpus: int = 4) -> dict:
    """A partial config reproducing the capture (see the module doc)."""
    alive = concurrency(cap)
    tasks_per_cpu = max(1, round(alive / n_cpus))
    span_ns = float(cap.t_ns.max() - cap.t_ns.min())
    think = tasks_per_cpu * n_cpus * span_ns / len(cap) if span_ns > 0 else 0.0
    return {"machine": {"n_cpus": n_cpus, "tasks_per_cpu": tasks_per_cpu},
            "workload": {"source": "synthetic", "think_ns": round(think, 1),
                         "replace_mix": True, "syscalls": fit_mix(cap)}}


def to_toml(cfg: dict, header: str = "") -> str:
    """The fitted config as TOML, one ``[workload.syscalls.NAME]`` table per
    kind, most frequent first."""
    lines = [f"# {line}" for line in header.splitlines()]
    for sec in ("machine", "workload"):
        items = [(k, v) for k, v in cfg.get(sec, {}).items() if not isinstance(v, dict)]
        if items:
            lines += ["", f"[{sec}]"]
            lines += [f"{_toml.key(k)} = {_toml.value(v)}" for k, v in items]
    mix = cfg["workload"]["syscalls"]
    for name in sorted(mix, key=lambda n: (-mix[n]["weight"], n)):
        lines += ["", f"[workload.syscalls.{_toml.key(name)}]"]
        lines += [f"{k} = {_toml.value(v)}" for k, v in mix[name].items()]
    return "\n".join(lines).lstrip("\n") + "\n"


def summary(cap: Capture, cfg: dict) -> str:
    """A few lines on what the fit found."""
    s = cap.stats
    mix = cfg["workload"]["syscalls"]
    total = sum(k["weight"] for k in mix.values())
    top = sorted(mix, key=lambda n: -mix[n]["weight"])[:8]
    by_type = {t: sum(k["weight"] for k in mix.values() if k["payload"] == t) / total
               for t in ("string", "buffer", "none")}
    out = [f"{cap.path}: {s['syscalls']} syscalls in {s['lines']} lines "
           f"({s['signals']} signals, {s['exits']} exits, {s['skipped']} lines "
           f"skipped), {len(cap.pids)} pids, {len(mix)} kinds, "
           f"{(cap.t_ns.max() - cap.t_ns.min()) / 1e6:.1f} ms",
           "payloads: " + ", ".join(f"{t} {100 * v:.1f}%" for t, v in by_type.items()),
           "top kinds: " + ", ".join(
               f"{n} {100 * mix[n]['weight'] / total:.1f}%"
               + (f" ({mix[n]['payload']}, median {mix[n]['len_median']:g} B)"
                  if mix[n]["payload"] != "none" else "") for n in top),
           f"tasks: {concurrency(cap):.2f} pids alive on average -> "
           f"{cfg['machine']['tasks_per_cpu']} per CPU on {cfg['machine']['n_cpus']} "
           f"CPUs; think time {cfg['workload']['think_ns'] / 1000:.1f} us"]
    if s["truncated_strings"]:
        out.append(f"note: {s['truncated_strings']} syscalls show a string cut by "
                   f"strace -s (their lengths are lower bounds)")
    if s["first_skipped"]:
        out.append(f"note: first skipped line {s['first_skipped'][0]}: "
                   f"{s['first_skipped'][1]!r}")
    return "\n".join(out)


def default_mix_toml() -> str:
    """fastring/data/default_mix.toml: the default ``workload.syscalls``,
    ``fit_mix`` of the shipped ``python`` capture (a test checks it)."""
    from ..data import capture_path
    cap = parse(capture_path("python"))
    return to_toml({"workload": {"syscalls": fit_mix(cap)}},
                   "The default syscall mix: fit_mix of fastring/data/python.strace.gz\n"
                   "(regenerate: python -c 'import fastring.world.fit as f; "
                   "print(f.default_mix_toml(), end=\"\")' > fastring/data/default_mix.toml)")
