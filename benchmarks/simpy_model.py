"""A SimPy model of the same workload, for the engine-speed baseline.

What the engine does with a compiled event loop, this module does the way
one would write it with SimPy (https://simpy.readthedocs.io): one
``simpy.Resource`` (capacity 1, FIFO queue = run queue) per simulated CPU,
one process per task and one per reader, and one ``env.timeout`` per probe
step. It models ``copy_then_commit`` (and ``copy_then_commit_atomic``) step
by step with the engine's rules and costs:

* tasks think (exponential ``workload.think_ns``), issue a syscall event
  (kind from the mix, lognormal payload length capped by ``capture_max``,
  address in the task's working set of the seeded user-memory arena), take a
  CPU (paying ``context_switch``) and run the probe (its latency counts
  from its first step, as in the engine):
  ``strnlen`` (P) - ``preempt_off`` - ``reserve`` - ``preempt_on`` -
  ``copy_user_to_slot`` (P) - ``preempt_off`` - ``commit_split`` -
  ``preempt_on``; each step costs what the cost profile says;
* faults (``bernoulli`` model): at an event's first touch of a page it is
  missing with ``p_minor`` / ``p_major``; a minor fault's lognormal service
  time is added to the step (the CPU is held), a major fault releases the
  CPU, sleeps, and the task is placed again (on another CPU with
  ``p_migrate``), then the step goes on;
* preemption: at the end of a step that leaves preemption on, while another
  task waits for that CPU, with probability ``1 - exp(-dur / timeslice)``;
  the task goes to the back of a run queue (maybe another CPU's);
* the ring buffer is the pure-Python :class:`fastring.reference.buffer.CpuBuffer`
  (reserve, header, copy of the real payload bytes, split commit counters,
  discard or overwrite mode); one reader process per CPU buffer wakes every
  ``reader.period_ns``, reads complete sub-buffers in order at
  ``reader.bytes_per_ns`` and frees each when its read ends (checking every
  record with ``reader.verify``).

What differs from the engine (so results agree in distribution, not bit for
bit): random draws come from one ``random.Random(seed)`` stream instead of
the engine's counter-based streams keyed by event, and simultaneous
happenings are ordered by SimPy's queue rather than the engine's tie-break
(tasks by index, then readers). Not modelled: the ``residency`` fault
model, ``faults.inject``, the other strategies, user strategy programs, the
per-event table and chunked progress. Quantiles are exact here (the engine
uses log-binned histograms).

``simulate(cfg, strategy)`` returns a dict with the engine's summary keys it
can fill (events, recorded, lost_*, data_missing, faults, commits, atomics,
bytes, latency/preempt-off/pin quantiles in ns, cpu_ns_per_event,
verify_errors, wall_s, events_per_s).
"""
from __future__ import annotations

import bisect
import math
import random
import struct
import time

import numpy as np

try:
    import simpy
except ImportError:             # a benchmark-only dependency
    simpy = None

from fastring import config as C
from fastring.world import costs as K
from fastring.world import prepare as W
from fastring.reference.buffer import HEADER_FMT, CpuBuffer

MODELED = ("copy_then_commit", "copy_then_commit_atomic")
PAGE = 4096


def available() -> bool:
    return simpy is not None


class Model:
    """One run of ``strategy`` under ``cfg`` (a validated config)."""

    def __init__(self, cfg: dict, strategy: str = "copy_then_commit"):
        if simpy is None:
            raise ImportError("the SimPy baseline needs simpy "
                              "(pip install simpy; an asv benchmark requirement)")
        if strategy not in MODELED:
            raise ValueError(f"the SimPy model covers {', '.join(MODELED)}, "
                             f"not {strategy!r}")
        f = cfg["faults"]
        if f["model"] != "bernoulli" or f["inject"]:
            raise ValueError("the SimPy model covers faults.model = "
                             "'bernoulli' without faults.inject only")
        self.cfg = cfg
        self.atomic = strategy == "copy_then_commit_atomic"
        run, mach, buf, rd, wl = (cfg[k] for k in ("run", "machine", "buffer",
                                                    "reader", "workload"))
        world = W.prepare(cfg)               # arena and working sets, as the engine
        self.rng = random.Random(run["seed"])
        self.env = simpy.Environment()
        self.events = run["events"]
        self.n_cpus = mach["n_cpus"]
        self.n_tasks = mach["n_cpus"] * mach["tasks_per_cpu"]
        self.timeslice = mach["timeslice_ns"] * 1000          # ps, like the engine
        self.p_migrate = mach["p_migrate"]
        ps = K.to_ps(C.resolved_costs(cfg))
        self.c = {k: int(v) for k, v in zip(K.COST_KEYS, ps)}
        self.header = buf["header_size"]
        self.cpus = [simpy.Resource(self.env, capacity=1) for _ in range(self.n_cpus)]
        self.bufs = [CpuBuffer(buf["subbuf_size"], buf["n_subbuf"], buf["header_size"],
                               buf["mode"]) for _ in range(self.n_cpus)]
        self.period = rd["period_ns"] * 1000
        self.ps_per_byte_x1000 = int(round(1e6 / rd["bytes_per_ns"]))
        self.verify = rd["verify"]
        self.capture_max = wl["capture_max"]
        self.kinds = W.kinds(cfg)
        self.kind_cdf = [float(x) for x in world.kind_cdf]
        self.kind_payload = [int(x) for x in world.kind_payload]
        self.kind_mu = [math.log(x) for x in world.kind_median]
        self.kind_sigma = [float(x) for x in world.kind_sigma]
        self.ws_base = [int(x) for x in world.ws_base]
        self.ws_bytes = int(world.ws_bytes)
        self.arena = world.arena.tobytes()
        self.think_mean = wl["think_ns"] * 1000.0
        self.p_minor, self.p_major = f["p_minor"], f["p_major"]
        self.minor_mu = math.log(f["minor_ns"] * 1000.0) if f["minor_ns"] > 0 else None
        self.major_mu = math.log(f["major_ns"] * 1000.0) if f["major_ns"] > 0 else None
        self.sigma = f["sigma"]
        # results
        self.issued = 0
        self.tasks_done = 0
        self.n = dict(events=0, lost=0, data_missing=0, faults_minor=0,
                      faults_major=0, migrations=0, atomic_ops=0,
                      payload_bytes=0, copied_bytes=0, cpu_ps=0,
                      preemptions=0, sleeps=0)
        self.lat, self.off_sum, self.off_max, self.pin = [], [], [], []

    # -- draws ---------------------------------------------------------------
    def _service(self, major: bool) -> int:
        mu = self.major_mu if major else self.minor_mu
        if mu is None:
            return 0
        return int(self.rng.lognormvariate(mu, self.sigma) + 0.5)

    def _touch(self, ev, pages):
        """First touch of the event's pages: (minor ps, major ps)."""
        first = ev["addr"] // PAGE
        last = (ev["addr"] + ev["len"] - 1) // PAGE
        minor = major = 0
        for page in range(first, last + 1):
            state = pages.get(page)
            if state is None:
                u = self.rng.random()
                state = (1 if u < self.p_minor else
                         2 if u < self.p_minor + self.p_major else 0)
            if state == 1:
                minor += self._service(False)
                self.n["faults_minor"] += 1
            elif state == 2:
                major += self._service(True)
                self.n["faults_major"] += 1
            pages[page] = 0                 # resident for the rest of the event
        return minor, major

    def _issue(self, tid):
        rng = self.rng
        kind = min(bisect.bisect_right(self.kind_cdf, rng.random()), len(self.kind_cdf) - 1)
        length = 0
        if self.kind_payload[kind] != W.PAYLOAD_NONE:
            x = rng.lognormvariate(self.kind_mu[kind], self.kind_sigma[kind])
            length = int(min(max(x + 0.5, 1.0), float(self.capture_max)))
        span = max(self.ws_bytes, length)
        base = min(self.ws_base[tid], len(self.arena) - span)
        addr = base + int(rng.random() * (span - length + 1))
        ev = dict(index=self.issued, kind=kind, len=length, addr=addr)
        self.issued += 1
        return ev

    def _place(self, cpu, may_migrate):
        if may_migrate and self.n_cpus > 1 and self.rng.random() < self.p_migrate:
            cpu = (cpu + 1 + int(self.rng.random() * (self.n_cpus - 1))) % self.n_cpus
        return cpu

    # -- processes -----------------------------------------------------------
    def task(self, tid):
        env, c, rng = self.env, self.c, self.rng
        cpu = tid % self.n_cpus
        yield env.timeout(int(rng.expovariate(1.0 / self.think_mean)) if self.think_mean else 0)
        while True:
            if self.issued >= self.events:
                self.tasks_done += 1
                if self.tasks_done == self.n_tasks:
                    for b in self.bufs:
                        b.flush()
                return
            ev = self._issue(tid)
            pages = {}
            cpu = self._place(cpu, True)
            req = self.cpus[cpu].request()
            yield req
            yield env.timeout(c["context_switch"])
            start = env.now              # latency counts from the probe's start
            last_p = False               # preemptible end of the last step
            last_dur = 0
            cpu_ps = 0
            off_sum = off_max = 0
            res = None                   # (buffer, offset, size, time)
            dropped = False              # reserve lost the record
            for step in range(8):
                # preemption at the end of the previous preemptible step
                if last_p and self.cpus[cpu].queue:
                    hazard = 1.0 - math.exp(-last_dur / self.timeslice)
                    if rng.random() < hazard:
                        self.n["preemptions"] += 1
                        self.cpus[cpu].release(req)
                        cpu = self._place(cpu, True)
                        req = self.cpus[cpu].request()
                        yield req
                        yield env.timeout(c["context_switch"])
                        last_p = False
                t = env.now
                dur = 0
                poff_after = False
                if step == 0 or step == 4:           # strnlen / copy_user_to_slot (P)
                    string = self.kind_payload[ev["kind"]] == W.PAYLOAD_STRING
                    if (step == 0 and string) or (step == 4 and not dropped):
                        minor = major = 0
                        if ev["len"]:
                            minor, major = self._touch(ev, pages)
                        if major:
                            self.n["sleeps"] += 1
                            self.cpus[cpu].release(req)
                            yield env.timeout(major)
                            cpu = self._place(cpu, True)
                            req = self.cpus[cpu].request()
                            yield req
                            yield env.timeout(c["context_switch"])
                            t = env.now
                        dur = minor
                        if step == 0:
                            dur += c["strnlen_byte"] * ev["len"]
                        elif ev["len"]:          # no payload: no copy_from_user
                            dur += (c["copy_user_call"] + c["copy_user_byte"] * ev["len"]
                                    + c["copy_from_user_extra"])
                            b, off = res[0], res[1]
                            buf = self.bufs[b]
                            h = buf.slot(off) + self.header
                            n = ev["len"]
                            buf.data[h:h + n] = self.arena[ev["addr"]:ev["addr"] + n]
                            self.n["copied_bytes"] += n
                elif step in (1, 5):                 # preempt_off
                    dur = c["preempt_off"]
                    n_start = t
                    poff_after = True
                elif step in (3, 7):                 # preempt_on
                    dur = c["preempt_on"]
                    sec = t + dur - n_start
                    off_sum += sec
                    off_max = max(off_max, sec)
                elif step == 2:                      # reserve (N)
                    dur = c["clock_read"] + c["memcpy_byte"] * self.header
                    if self.atomic:
                        dur += c["atomic_cmpxchg"]
                        self.n["atomic_ops"] += 1
                    else:
                        dur += c["local_cmpxchg"]
                    size = (self.header + ev["len"] + 7) & ~7
                    buf = self.bufs[cpu]
                    off = buf.reserve(size)
                    if isinstance(off, str):
                        dropped = True
                    else:
                        struct.pack_into(HEADER_FMT, buf.data, buf.slot(off), ev["len"],
                                         ev["kind"], 0, t, ev["index"], ev["addr"], 0)
                        res = (cpu, off, size, t)
                    poff_after = True
                elif step == 6:                      # commit (N)
                    poff_after = True
                    if not dropped:
                        b, off, size, t_res = res
                        if self.atomic:
                            how, dur = "atomic", c["atomic_add"]
                        elif cpu != b:
                            how, dur = "remote", c["atomic_add_contended"]
                        else:
                            how, dur = "local", c["local_add"]
                        if how != "local":
                            self.n["atomic_ops"] += 1
                        if cpu != b:
                            self.n["migrations"] += 1
                        self.bufs[b].commit(off, size, how, t)
                        self.pin.append(t - t_res)
                cpu_ps += dur
                last_dur = dur
                last_p = not poff_after
                if dur:
                    yield env.timeout(dur)
            # end: account the event, leave the CPU, think
            now = env.now
            self.n["events"] += 1
            self.n["payload_bytes"] += ev["len"]
            self.n["cpu_ps"] += cpu_ps
            if dropped:                  # (copies may fault here: never DATA_MISSING)
                self.n["lost"] += 1
            self.lat.append(now - start)
            self.off_sum.append(off_sum)
            self.off_max.append(off_max)
            self.cpus[cpu].release(req)
            yield env.timeout(int(rng.expovariate(1.0 / self.think_mean)) if self.think_mean else 0)

    def reader(self, b):
        """Wake every period; read a complete sub-buffer (``subbuf_size /
        bytes_per_ns``), free it when its read ends, go on with the next
        complete one, else sleep a period (the engine's reader)."""
        env = self.env
        buf = self.bufs[b]
        read_time = buf.subbuf_size * self.ps_per_byte_x1000 // 1000
        yield env.timeout(self.period)
        while True:
            if buf.begin_read():         # the reader's own until the read ends
                yield env.timeout(read_time)
                buf.end_read(env.now, self.verify, self.arena,
                             self.capture_max, len(self.kinds))
                continue
            if self.tasks_done == self.n_tasks and buf.read == buf.write:
                return                       # drained after the last event
            yield env.timeout(self.period)

    # -- run -----------------------------------------------------------------
    def run(self) -> dict:
        t0 = time.perf_counter()
        for tid in range(self.n_tasks):
            self.env.process(self.task(tid))
        for b in range(self.n_cpus):
            self.env.process(self.reader(b))
        self.env.run()
        wall = time.perf_counter() - t0
        return self.summary(wall)

    def summary(self, wall: float) -> dict:
        n = self.n
        tot = {k: sum(b.count[k] for b in self.bufs) for k in self.bufs[0].count}
        events = n["events"]

        def q(xs, p):
            return float(np.quantile(np.asarray(xs, np.float64), p)) / 1000.0 if xs else math.nan

        out = {
            "events": events, "recorded": events - n["lost"],
            "lost_full": tot["lost_full"], "lost_wrap": tot["lost_wrap"],
            "lost_big": tot["lost_big"], "overwritten": tot["overwritten"],
            "data_missing": n["data_missing"],
            "faults_minor": n["faults_minor"], "faults_major": n["faults_major"],
            "migrations": n["migrations"],
            "commits_local": tot["commits_local"], "commits_remote": tot["commits_remote"],
            "commits_atomic": tot["commits_atomic"], "atomic_ops": n["atomic_ops"],
            "payload_bytes": n["payload_bytes"], "recorded_bytes": tot["recorded_bytes"],
            "copied_bytes": n["copied_bytes"], "padding_bytes": tot["padding_bytes"],
        }
        for name, xs in (("latency", self.lat), ("preempt_off", self.off_sum),
                         ("preempt_section", self.off_max), ("pin", self.pin)):
            for label, p in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999)):
                out[f"{name}_{label}_ns"] = q(xs, p)
            out[f"{name}_max_ns"] = max(xs) / 1000.0 if xs else math.nan
        out.update({
            "cpu_ns_per_event": n["cpu_ps"] / events / 1000.0 if events else math.nan,
            "preemptions": n["preemptions"], "sleeps": n["sleeps"],
            "delivered": tot["delivered"], "verify_errors": tot["verify_errors"],
            "sim_time_ns": self.env.now / 1000.0,
            "wall_s": wall, "events_per_s": events / wall if wall > 0 else math.nan,
        })
        return out


def simulate(cfg, strategy: str = "copy_then_commit", overrides=()) -> dict:
    """Run the SimPy model; ``cfg`` as for :func:`fastring.config.load`."""
    if not (isinstance(cfg, dict) and "run" in cfg and "costs" in cfg and not overrides):
        cfg = C.load(cfg, overrides)
    return Model(cfg, strategy).run()


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Run the SimPy baseline model once.")
    ap.add_argument("--events", type=float, default=1e4)
    ap.add_argument("--strategy", default="copy_then_commit", choices=MODELED)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    a = ap.parse_args()
    r = simulate(C.load(None, [f"run.events={int(a.events)}", *a.set]), a.strategy)
    for k, v in r.items():
        print(f"{k:24s} {v}")
