"""What the simulation reports, tracked per strategy (asv: track_).

These are results of the model, not speeds: they change only when the model
(or a default) changes, and asv's graphs then show exactly which commit moved
them. Each (strategy, faults.p_major, machine.n_cpus) is simulated once, in
``setup_cache`` (100 000 events each, default config otherwise), and every
``track_`` reads its metric from that cache.
"""
from __future__ import annotations

from . import _common as common

from fastring.api import Simulation

EVENTS = 100_000
P_MAJOR = [0.0, 1e-4, 1e-3]
N_CPUS = [1, 4]


def _ratio(num, den):
    return num / den if den else 0.0


class SimulatedMetrics:
    params = (common.STRATEGIES, P_MAJOR, N_CPUS)
    param_names = ("strategy", "p_major", "n_cpus")
    timeout = 1800

    def setup_cache(self):
        common.warm_up()
        out = {}
        for strategy in common.STRATEGIES:
            for p_major in P_MAJOR:
                for n_cpus in N_CPUS:
                    cfg = common.config(EVENTS, f"faults.p_major={p_major!r}",
                                        f"machine.n_cpus={n_cpus}")
                    out[strategy, p_major, n_cpus] = Simulation(cfg, strategy).run()
        return out

    def track_latency_p99(self, runs, strategy, p_major, n_cpus):
        return runs[strategy, p_major, n_cpus]["latency_p99_ns"]
    track_latency_p99.unit = "ns"

    def track_preempt_off_max(self, runs, strategy, p_major, n_cpus):
        return runs[strategy, p_major, n_cpus]["preempt_off_max_ns"]
    track_preempt_off_max.unit = "ns"

    def track_pin_p99(self, runs, strategy, p_major, n_cpus):
        return runs[strategy, p_major, n_cpus]["pin_p99_ns"]
    track_pin_p99.unit = "ns"

    def track_lost_events(self, runs, strategy, p_major, n_cpus):
        r = runs[strategy, p_major, n_cpus]
        return r["events"] - r["recorded"]
    track_lost_events.unit = "events"

    def track_data_missing(self, runs, strategy, p_major, n_cpus):
        return runs[strategy, p_major, n_cpus]["data_missing"]
    track_data_missing.unit = "events"

    def track_copy_amplification(self, runs, strategy, p_major, n_cpus):
        """Bytes copied per payload byte (2 for the bounce strategies)."""
        r = runs[strategy, p_major, n_cpus]
        return _ratio(r["copied_bytes"], r["payload_bytes"])
    track_copy_amplification.unit = "ratio"

    def track_remote_commit_ratio(self, runs, strategy, p_major, n_cpus):
        """Share of commits made from another CPU (the atomic REMOTE add)."""
        r = runs[strategy, p_major, n_cpus]
        return _ratio(r["commits_remote"],
                      r["commits_local"] + r["commits_remote"] + r["commits_atomic"])
    track_remote_commit_ratio.unit = "ratio"

    def track_tracer_ns_per_event(self, runs, strategy, p_major, n_cpus):
        return runs[strategy, p_major, n_cpus]["cpu_ns_per_event"]
    track_tracer_ns_per_event.unit = "ns/event"
