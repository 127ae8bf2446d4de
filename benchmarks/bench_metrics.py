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


def _column(name: str, column: str, unit: str):
    """A ``track_`` method returning one ``runs`` column of the cached run
    (asv names a benchmark after ``__name__``: it is the attribute's)."""
    def track(self, runs, strategy, p_major, n_cpus):
        return runs[strategy, p_major, n_cpus][column]
    track.__name__ = track.__qualname__ = name
    track.unit = unit
    return track


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

    track_latency_p99 = _column("track_latency_p99", "latency_p99_ns", "ns")
    track_preempt_off_max = _column("track_preempt_off_max", "preempt_off_max_ns", "ns")
    track_pin_p99 = _column("track_pin_p99", "pin_p99_ns", "ns")
    track_data_missing = _column("track_data_missing", "data_missing", "events")
    track_tracer_ns_per_event = _column("track_tracer_ns_per_event",
                                        "cpu_ns_per_event", "ns/event")

    def track_lost_events(self, runs, strategy, p_major, n_cpus):
        r = runs[strategy, p_major, n_cpus]
        return r["events"] - r["recorded"]
    track_lost_events.unit = "events"

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

