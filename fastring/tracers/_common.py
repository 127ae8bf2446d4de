"""What the real-tracer comparisons share: running tools, building C, the
model's prediction, machine facts and the side-by-side table."""
from __future__ import annotations

import os
import re
import platform
import shutil
import statistics
import subprocess
from pathlib import Path


class Unavailable(Exception):
    """The real tracer cannot be run here; the message says why and how to
    get it (the CLI exits 2 with it)."""


def run(cmd, timeout=120, check=True, env=None, cwd=None, input=None):
    """Run ``cmd``; raise :class:`Unavailable` if it cannot start or fails."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, input=input,
                           timeout=timeout, env=env, cwd=cwd)
    except FileNotFoundError as exc:
        raise Unavailable(f"cannot run {cmd[0]}: {exc}") from None
    except subprocess.TimeoutExpired:
        raise Unavailable(f"`{' '.join(map(str, cmd))}` did not finish in "
                          f"{timeout} s") from None
    if check and p.returncode != 0:
        raise Unavailable(f"`{' '.join(map(str, cmd))}` failed (exit "
                          f"{p.returncode}): {(p.stderr or p.stdout).strip()}")
    return p


def compiler() -> str:
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            return shutil.which(cc)
    raise Unavailable("no C compiler (cc, gcc or clang) to build the "
                      "benchmark programs: apt-get install -y gcc")


def build(workdir: Path, sources: dict[str, str], exe: str, files: list[str],
          libs: list[str]) -> Path:
    """Write ``sources`` into ``workdir`` and compile ``files`` into ``exe``."""
    for name, text in sources.items():
        (workdir / name).write_text(text)
    out = workdir / exe
    run([compiler(), "-O2", "-I.", "-o", str(out), *files, *libs],
        cwd=workdir, timeout=300)
    return out


def median(xs):
    return statistics.median(xs)


def machine_facts() -> dict:
    """CPU, caches, kernel and the load from other processes right now."""
    from fastring.calibrate.host import host
    facts = {k: v for k, v in host().items()
             if k in ("cpu_model", "cores", "machine", "kernel", "date",
                      "clocksource") or k.startswith("cache_")}
    try:
        facts["loadavg_1min"] = float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    facts["python"] = platform.python_version()
    return facts


def predict(config: dict, overrides: list[str]) -> float:
    """fastring's ``cpu_ns_per_event`` for the single strategy ``config``
    runs (the model's tracer CPU time per event)."""
    import fastring
    res = fastring.run(config, overrides=overrides)
    row = res.runs.to_pylist()[0]
    return float(row["cpu_ns_per_event"]), row


def table(head: tuple, rows: list[tuple]) -> str:
    """A Markdown table (also readable as plain text)."""
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


    return path


def perf_shares(cmd: list[str], sort: str, workdir: Path,
                env=None) -> dict[str, float] | None:
    """Run ``cmd`` under ``perf record -e cpu-clock`` and return each
    ``sort`` key's (``dso`` or ``sym``) share of the samples; None when perf
    is missing or fails."""
    if not shutil.which("perf"):
        return None
    data = workdir / "perf.data"
    try:
        run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "10000", "-o",
             str(data), *cmd], env=env, timeout=900)
    except Unavailable:
        return None
    rep = run(["perf", "report", "-i", str(data), "--no-children", "--sort",
               sort, "--stdio", "-g", "none"], check=False, timeout=300)
    data.unlink(missing_ok=True)
    shares = {}
    pat = (r"^\s+([\d.]+)%\s+(\S+)" if sort == "dso"
           else r"^\s+([\d.]+)%\s+\[[k.]\]\s+(\S+)")
    for m in re.finditer(pat, rep.stdout, re.M):
        shares[m.group(2)] = shares.get(m.group(2), 0.0) + float(m.group(1)) / 100
    return shares or None


def grouped(shares: dict[str, float], groups: dict[str, tuple[str, ...]],
            ns: float) -> dict[str, float]:
    """ns per group: the shares of the names that start with one of the
    group's prefixes, times ``ns``."""
    return {g: ns * sum(v for k, v in shares.items()
                        if any(k.startswith(p) for p in prefixes))
            for g, prefixes in groups.items()}


def miss_table(title: str, where: str, got: dict[str, float],
               want: dict[str, float], unit: str) -> list[str]:
    """Markdown lines: the real tracer's ns per part (perf) beside the
    model's, the difference, and the largest cost the model misses."""
    rows = [(p, f"{got[p]:.1f}", f"{want[p]:.1f}", f"{got[p] - want[p]:+.1f}")
            for p in got]
    worst = max(got, key=lambda p: got[p] - want[p])
    return [f"### {title}", "",
            table((where, "real ns (perf)", "model ns", "missed by the model"),
                  rows), "",
            f"Largest cost the model misses: {worst}, "
            f"{got[worst] - want[worst]:+.1f} ns per {unit}.", ""]
