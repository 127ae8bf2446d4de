"""``fastring.live(config)``: every strategy of a config on real threads.

The config is the simulator's (same keys, same ``--set``); ``machine.n_cpus``
becomes the number of writer threads. Settings live mode cannot honour are
refused before any thread starts, naming the key. Beside each live run the
simulator predicts the same config (``predict``), so the table shows
predicted and measured ns per event side by side.
"""
from __future__ import annotations

import copy
import warnings

import pyarrow as pa

from .. import api
from ..model import buffer as B
from .. import config as C
from .. import engine as E
from ..model import strategies as S
from ..world import prepare as W
from ..io.results import Results, schema_metadata
from . import faults as F
from . import kernels as K
from . import threads as T

#: the columns live adds to the simulator's ``runs`` columns
LIVE_COLUMNS = ("threads", "mismatches", "undelivered", "unfinished",
                "stuck_subbufs", "commits_unsafe", "handoffs", "ns_per_event",
                "cpu_ns_p50",
                "predicted_cpu_ns_per_event", "rusage_minflt", "rusage_majflt",
                "pages_dropped", "pinned", "stuck_detail")


def default_threads() -> int:
    return max(2, len(T.usable_cores()))


def check(cfg: dict, threads: int) -> None:
    """Refuse what live mode cannot honour (ConfigError naming the key)."""
    bad = C.ConfigError
    if threads < 1 or threads > 1024:
        raise bad(f"--threads: must be in [1, 1024], got {threads}")
    if cfg["faults"]["model"] != "bernoulli":
        raise bad(f"faults.model: fastring live injects only 'bernoulli' "
                  f"faults (use live.faults = \"real\" for real ones), got "
                  f"{cfg['faults']['model']!r}")
    if cfg["buffer"]["mode"] != "discard":
        raise bad(f"buffer.mode: fastring live runs 'discard' only (an "
                  f"overwriting writer would race the reader thread), got "
                  f"{cfg['buffer']['mode']!r}")
    for sec, key, want in (("buffer", "payload", "bytes"),
                           ("workload", "source", "synthetic")):
        got = cfg[sec].get(key, want)
        if got != want:
            raise bad(f"{sec}.{key}: fastring live needs {want!r} (records "
                      f"are checked byte for byte), got {got!r}")
    if cfg["live"]["faults"] == "real" and not F.supported():
        raise bad("live.faults: 'real' needs madvise, posix_fadvise and "
                  "RUSAGE_THREAD (Linux); this platform lacks them")


def live_config(cfg: dict, threads: int) -> dict:
    out = copy.deepcopy(cfg)
    out["machine"]["n_cpus"] = threads
    return out


def _warn(msg: str) -> None:
    warnings.warn(msg, RuntimeWarning, stacklevel=3)


def live(config=None, *, overrides=(), threads: int | None = None,
         predict: bool = True, progress=None, pin: bool = True,
         warn=_warn) -> Results:
    """Run every strategy of ``config`` on ``threads`` writer threads (default:
    the usable cores, at least 2) and return ``runs`` and ``buffers`` tables.
    ``progress(strategy, done, total)`` sees each strategy's progress;
    ``warn(message)`` hears about time-shared threads and timeouts."""
    cfg = C.load(config, overrides)
    threads = default_threads() if threads is None else int(threads)
    check(cfg, threads)
    programs = C.programs(cfg)              # load's: n_cpus does not change them
    cfg = live_config(cfg, threads)
    if threads > len(T.usable_cores()):
        warn(f"--threads {threads} > {len(T.usable_cores())} usable cores: "
             f"the writer threads time-share them")
    world = W.prepare(cfg)
    arena = F.FileArena(world.arena) if cfg["live"]["faults"] == "real" else None
    flat = C.flatten(cfg)
    runs, buffers = [], []
    try:
        if arena is not None:
            world = world._replace(arena=arena.array)
        for name in cfg["run"]["strategies"]:
            row, bufs = _one(cfg, name, programs[name], world, arena, threads,
                             pin, None if progress is None else
                             (lambda d, n, name=name: progress(name, d, n)), warn)
            if predict:
                row["predicted_cpu_ns_per_event"] = _predict(cfg, name, programs[name])
            runs.append({"strategy": name, **flat, **row})
            buffers.extend(bufs)
    finally:
        world = None
        if arena is not None:
            arena.close()
    meta = schema_metadata(cfg)
    return Results(config=cfg,
                   runs=api._runs_table(runs).replace_schema_metadata(meta),
                   buffers=pa.Table.from_pylist(buffers).replace_schema_metadata(meta))


def _one(cfg, name, prog, world, arena, threads, pin, progress, warn):
    lv = cfg["live"]
    ring = W.new_ring(cfg)
    L = K.new_live(world, threads, cfg["machine"]["tasks_per_cpu"],
                   int((prog[:, S.SLOT] >= 0).sum()), cfg["run"]["events"],
                   lv["p_preempt"], arena is not None, T.ps_per_cycle())
    T.compile_kernels(world, ring, L, prog)
    helpers = []
    if arena is not None and lv["drop_pages_per_s"] > 0:
        helpers.append(F.PageDropper(arena, lv["drop_pages_per_s"], cfg["run"]["seed"]))
    out = T.run_threads(world, ring, L, prog, timeout_s=lv["timeout_s"],
                        period_s=cfg["reader"]["period_ns"] * 1e-9, pin=pin,
                        progress=progress, extra_threads=helpers)
    row = summary(L, ring, out, threads, helpers[0].dropped if helpers else 0)
    if out.timed_out:
        warn(f"{name}: no event finished for live.timeout_s = "
             f"{lv['timeout_s']} s; stopped with {row['unfinished']} events "
             f"unfinished")
    bufs = [{"strategy": name, "cpu": b,
             **{c: int(ring.st[b, B.ST_NAMES.index(c)]) for c in api.BUFFER_COLUMNS}}
            for b in range(threads)]
    return row, bufs


def summary(L, ring, out: T.Outcome, threads: int, dropped: int) -> dict:
    """The ``runs`` columns of one live run; every event is accounted for
    from its status byte (written when its probe ended) and the number of
    times the reader delivered it."""
    st = L.status
    base = st & (K.EV_MISSING_BIT - 1)
    finished = st != K.EV_UNFINISHED
    recorded = finished & (base == E.ST_RECORDED)
    seen = L.seen > 0
    k = L.k.sum(axis=0)
    tot = {n: int(ring.st[:, i].sum()) for i, n in enumerate(B.ST_NAMES)}
    n_fin = int(finished.sum())
    stuck = T.stuck_subbufs(ring)
    real = L.par[K.P_REAL] != 0
    row = {
        "events": n_fin,
        "recorded": int(recorded.sum()),
        "lost_full": int((finished & (base == E.ST_LOST_FULL)).sum()),
        "lost_wrap": int((finished & (base == E.ST_LOST_WRAP)).sum()),
        "lost_big": int((finished & (base == E.ST_LOST_BIG)).sum()),
        "overwritten": tot["overwritten"],
        "data_missing": int((recorded & ((st & K.EV_MISSING_BIT) != 0)).sum()),
        "restarts": int(k[K.K_RESTARTS]), "retries": int(k[K.K_RETRIES]),
        "faults_minor": int(k[K.K_FMINOR]) + (out.minflt if real else 0),
        "faults_major": int(k[K.K_FMAJOR]) + (out.majflt if real else 0),
        "migrations": int(k[K.K_MIGRATIONS]),
        "commits_local": int(k[K.K_C_LOCAL]),
        "commits_remote": int(k[K.K_C_REMOTE]),
        "commits_atomic": int(k[K.K_C_ATOMIC]),
        "atomic_ops": int(k[K.K_ATOMIC]), "kmallocs": int(k[K.K_KMALLOC]),
        "payload_bytes": int(k[K.K_PAYLOAD]),
        "recorded_bytes": tot["recorded_bytes"],
        "copied_bytes": int(k[K.K_COPIED]),
        "padding_bytes": tot["padding_bytes"],
        "wasted_bytes": tot["wasted_bytes"],
    }
    h = L.h.sum(axis=0)
    kmax = L.k.max(axis=0)
    row.update(api.time_columns(
        {"latency": h[E.HIST_LATENCY], "preempt_off": h[E.HIST_PREEMPT_OFF],
         "preempt_section": h[E.HIST_PREEMPT_SECTION], "pin": h[E.HIST_PIN], "delivery": L.delivery},
        {"latency": kmax[K.K_MAX_LAT], "preempt_off": kmax[K.K_MAX_OFF],
         "preempt_section": kmax[K.K_MAX_SEC], "pin": kmax[K.K_MAX_PIN],
         "delivery": None}))
    row["cpu_ns_per_event"] = k[K.K_CPU_PS] / n_fin / 1000.0 if n_fin else float("nan")
    row["cpu_ns_p50"] = api.quantile(L.hcpu.sum(axis=0), 0.5) / 1000.0
    row.update({
        "preemptions": int(k[K.K_PREEMPT]), "sleeps": int(k[K.K_SLEEPS]),
        "delivered": int(seen.sum()),
        "verify_errors": tot["verify_errors"],
        "wall_s": out.wall_s,
        "events_per_s": n_fin / out.wall_s if out.wall_s > 0 else float("nan"),
        "threads": threads,
        # a header that is not its event's, an event delivered twice or
        # never recorded, a payload or timestamp the consumer rejects
        "mismatches": int(L.rk[K.RK_MISMATCH] + L.rk[K.RK_DUP]
                          + (seen & ~recorded).sum()) + tot["verify_errors"],
        "undelivered": int((recorded & ~seen).sum()),
        "unfinished": int((~finished).sum()),
        "stuck_subbufs": len(stuck),
        "commits_unsafe": int(k[K.K_C_UNSAFE]),
        "handoffs": int(k[K.K_HANDOFF]),
        "ns_per_event": out.wall_s * 1e9 * threads / n_fin if n_fin else float("nan"),
        "predicted_cpu_ns_per_event": float("nan"),
        "rusage_minflt": out.minflt, "rusage_majflt": out.majflt,
        "pages_dropped": dropped,
        "pinned": int(sum(out.pinned)),
        "stuck_detail": "; ".join(
            f"cpu{x['cpu']} sub-buffer {x['subbuf']}: {x['committed']} of "
            f"{x['expected']} bytes committed" for x in stuck),
    })
    return row


PREDICT_EVENTS = 200_000


def _predict(cfg, name, prog) -> float:
    """The simulator's tracer CPU time per event for the same config (at
    most PREDICT_EVENTS events: the mean settles long before)."""
    sim_cfg = copy.deepcopy(cfg)
    sim_cfg["run"]["events"] = min(cfg["run"]["events"], PREDICT_EVENTS)
    return float(api.Simulation(sim_cfg, name, prog=prog).run()["cpu_ns_per_event"])


def result_lines(runs: pa.Table) -> list[str]:
    """Plain-language verdicts: lost commits and mismatches said in words."""
    out = []
    for r in runs.to_pylist():
        name = r["strategy"]
        if r["stuck_subbufs"] or r["undelivered"]:
            out.append(
                f"{name}: LOST COMMITS: {r['stuck_subbufs']} sub-buffer(s) never "
                f"became complete and {r['undelivered']} recorded events were "
                f"never delivered" + (f" ({r['commits_unsafe']} unsafe commits)"
                                      if r["commits_unsafe"] else ""))
        if r["mismatches"]:
            out.append(f"{name}: {r['mismatches']} delivered records do not "
                       f"match their event")
        if r["unfinished"]:
            out.append(f"{name}: {r['unfinished']} events never finished (timeout)")
    return out or ["every recorded event was delivered once, byte for byte"]

