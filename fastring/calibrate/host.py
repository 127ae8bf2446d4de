"""Facts about the host a calibration ran on (written to the profile)."""
from __future__ import annotations

import datetime as _dt
import os
import platform
import resource
from pathlib import Path

import numpy as np


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, val = line.partition(":")
            if key.strip() in ("model name", "Processor", "cpu model"):
                return val.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cache_sizes() -> dict:
    """Cache sizes of CPU 0 from sysfs, e.g. ``{"L1d": "32K", "L3": "32768K"}``."""
    out = {}
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    for idx in sorted(base.glob("index*")):
        try:
            level = (idx / "level").read_text().strip()
            kind = (idx / "type").read_text().strip()
            size = (idx / "size").read_text().strip()
        except OSError:
            continue
        name = f"L{level}" + {"Data": "d", "Instruction": "i"}.get(kind, "")
        out[name] = size
    return out


def host() -> dict:
    import llvmlite
    import numba
    info = {"cpu_model": cpu_model(),
            "cores": os.cpu_count() or 1,
            "machine": platform.machine(),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "numba": numba.__version__,
            "llvmlite": llvmlite.__version__,
            "numpy": np.__version__,
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(
                timespec="seconds")}
    for name, size in _cache_sizes().items():
        info[f"cache_{name}"] = size
    try:
        info["clocksource"] = Path(
            "/sys/devices/system/clocksource/clocksource0/"
            "current_clocksource").read_text().strip()
    except OSError:
        pass
    return info


def cpu_seconds():
    """(CPU seconds all processes have used, CPU seconds this process has
    used), from /proc/stat and getrusage; None where /proc is missing."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal ...
    ticks = [int(x) for x in fields[1:9]]
    busy = (sum(ticks[:3]) + sum(ticks[5:8])) / os.sysconf("SC_CLK_TCK")
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return busy, ru.ru_utime + ru.ru_stime
