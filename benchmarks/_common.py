"""Helpers shared by the asv benchmarks and the scripts of this directory.

Nothing here is a benchmark (asv collects only names starting with
``time_``, ``timeraw_``, ``peakmem_``, ``mem_`` and ``track_``).
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:            # run from a checkout without install
    sys.path.append(str(REPO))

from fastring import config as C          # noqa: E402
from fastring.api import Simulation       # noqa: E402

STRATEGIES = list(C.BUILTIN_STRATEGIES)
#: the strategy the baselines (reference engine, SimPy, bare loop) compare on
BASELINE_STRATEGY = "copy_then_commit"
BASELINE_EVENTS = 100_000

_warm = False


def max_events() -> float:
    """``FASTRING_BENCH_MAX_EVENTS`` (e.g. ``1e6``): engine sizes above it are
    skipped, so that ``asv run --quick`` over everything stays short."""
    text = os.environ.get("FASTRING_BENCH_MAX_EVENTS", "").strip()
    return float(text) if text else float("inf")


def skip_if_too_large(events: int) -> None:
    if events > max_events():
        raise NotImplementedError(      # asv reports the benchmark as skipped
            f"{events} events > FASTRING_BENCH_MAX_EVENTS={max_events():g}")


def config(events: int, *overrides: str, strategy: str | None = None) -> dict:
    """The default config with ``run.events`` (and ``overrides``) set."""
    extra = [f"run.strategies=[\"{strategy}\"]"] if strategy else []
    return C.load(None, [f"run.events={int(events)}", *extra, *overrides])


def warm_up() -> None:
    """Compile (or load from the numba cache) every kernel the engine and
    :func:`fastring.run` use, for every built-in strategy, once per process."""
    global _warm
    if _warm:
        return
    import fastring
    fastring.run(config(2000), events_table=True)
    for name in STRATEGIES:
        Simulation(config(2000, "buffer.mode=overwrite", "machine.n_cpus=1"), name).run()
    _warm = True


def engine_run(events: int, strategy: str, *overrides: str) -> tuple[float, dict]:
    """Wall seconds of ``Simulation(...).run()`` (construction excluded) and
    its summary."""
    sim = Simulation(config(events, *overrides), strategy)
    t0 = time.perf_counter()
    summary = sim.run()
    return time.perf_counter() - t0, summary


def reference_simulate():
    """``fastring.reference.engine.simulate``, or raise NotImplementedError
    (asv: skipped) while the pure-Python reference engine does not exist."""
    try:
        from fastring.reference.engine import simulate
    except ImportError as exc:
        raise NotImplementedError(f"no pure-Python reference engine yet: {exc}") from None
    return simulate


def pin_to_one_core() -> int | None:
    """Pin this process to one CPU (the last one allowed); returns it."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        return cpus[-1]
    except (AttributeError, OSError):
        return None


def machine_facts() -> dict[str, str]:
    """What a reader needs to compare a number with another machine's."""
    import numba
    import numpy
    import pyarrow
    import fastring
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:
        allowed = os.cpu_count()
    commit = "?"
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                                capture_output=True, text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        load = "load average %.2f %.2f %.2f (1, 5, 15 min)" % os.getloadavg()
    except OSError:
        load = "?"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load": load,
        "cpu": f"{model}, {os.cpu_count()} logical CPUs ({allowed} allowed)",
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": (f"fastring {fastring.__version__}, numba {numba.__version__}, "
                     f"numpy {numpy.__version__}, pyarrow {pyarrow.__version__}"),
        "commit": commit,
    }


def print_facts(facts: dict[str, str]) -> None:
    for k, v in facts.items():
        print(f"  {k:9s} {v}")
