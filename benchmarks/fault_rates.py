"""Measure how often a tracer's copy of syscall arguments would fault.

The model's Bernoulli faults (``faults.p_minor`` / ``faults.p_major``): at an
event's first touch of a user page, the page is missing with that
probability. This script measures the rate on real programs with the
kernel's own tracepoints, in a dedicated ftrace instance following the
workload's pids (``set_event_pid`` + ``options/event-fork``):

* ``raw_syscalls:sys_enter`` / ``sys_exit``: each syscall that passes user
  memory a tracer copies at entry is one event. Its pages: the first page of
  each path/string argument (lttng-modules' ``ctf_user_string``), and the
  pages of a write-family buffer up to 4096 B (``full`` capture's default
  ``capture_max``; ``ftrace`` reads 63 B of it). Read buffers are filled by
  the kernel before a tracer reads them at exit: resident by construction,
  not counted.
* ``exceptions:page_fault_kernel`` (x86, ``trace_page_fault_entries``: a
  fault taken in kernel mode) on one of those pages between the event's
  sys_enter and sys_exit: the kernel's own ``strncpy_from_user`` /
  ``copy_from_user`` of the argument found the page missing, so a tracer
  copying at sys_enter, before the kernel, would have taken that fault.
* major: the fault was followed, before the task's next fault or sys_exit,
  by ``filemap:mm_filemap_add_to_page_cache`` from the same task (the page
  was read from storage; the machine has no swap).
* ``exceptions:page_fault_user``: whether the task itself faulted the page in
  from user mode earlier (it wrote the buffer or the string): why kernel-mode
  faults on arguments are rare.

Each program runs cold (after ``echo 3 > /proc/sys/vm/drop_caches``) and then
warm. Output: ``fault_rates.json`` and ``table.md`` in ``--out``. Needs root
and tracefs (mounted here if missing); exit 2 with a message otherwise.

    python benchmarks/fault_rates.py --out results/fault_rates
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRACEFS = Path("/sys/kernel/tracing")
INSTANCE = "fastring_fault_rates"
PAGE = 4096
BUF_CAP = 4096           # bytes of a write buffer a `full` capture copies
USER_TOP = 0x800000000000
EVENTS = ("raw_syscalls/sys_enter", "raw_syscalls/sys_exit",
          "exceptions/page_fault_kernel", "exceptions/page_fault_user",
          "filemap/mm_filemap_add_to_page_cache")

# x86_64 syscalls whose path/string arguments a tracer copies: argument
# indices (lttng-modules instrumentation records them with ctf_user_string)
STRING_ARGS = {
    "open": (0,), "openat": (1,), "openat2": (1,), "creat": (0,),
    "stat": (0,), "lstat": (0,), "newfstatat": (1,), "statx": (1,),
    "access": (0,), "faccessat": (1,), "faccessat2": (1,),
    "readlink": (0,), "readlinkat": (1,), "execve": (0,), "execveat": (1,),
    "chdir": (0,), "mkdir": (0,), "mkdirat": (1,), "rmdir": (0,),
    "unlink": (0,), "unlinkat": (1,), "rename": (0, 1), "renameat": (1, 3),
    "renameat2": (1, 3), "link": (0, 1), "linkat": (1, 3),
    "symlink": (0, 1), "symlinkat": (0, 2), "chmod": (0,), "fchmodat": (1,),
    "chown": (0,), "lchown": (0,), "fchownat": (1,), "truncate": (0,),
    "utimensat": (1,), "getxattr": (0, 1), "lgetxattr": (0, 1),
    "fgetxattr": (1,), "listxattr": (0,), "llistxattr": (0,),
    "setxattr": (0, 1), "lsetxattr": (0, 1), "fsetxattr": (1,),
    "statfs": (0,), "memfd_create": (0,), "inotify_add_watch": (1,),
}
# write family with a flat buffer: (buffer argument, count argument)
BUFFER_IN_ARGS = {"write": (1, 2), "pwrite64": (1, 2), "sendto": (1, 2)}

LINE = re.compile(r"^\s*(?P<comm>.*?)-(?P<pid>\d+)\s+\[\d+\]\s+\S+\s+"
                  r"(?P<ts>[\d.]+): (?P<ev>\w+): (?P<rest>.*)$")


def die(msg: str) -> None:
    print(f"fault_rates: {msg}", file=sys.stderr)
    sys.exit(2)


def syscall_names() -> dict[int, str]:
    hdr = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
    if not hdr.exists():
        die(f"{hdr} not found (apt-get install linux-libc-dev): needed to "
            f"name syscall numbers")
    return {int(n): name for name, n in
            re.findall(r"#define __NR_(\w+)\s+(\d+)", hdr.read_text())}


def ensure_tracefs() -> Path:
    if platform.machine() != "x86_64":
        die("exceptions:page_fault_kernel is x86 only; this is "
            f"{platform.machine()}")
    if os.geteuid() != 0:
        die("needs root (tracefs, drop_caches)")
    if not (TRACEFS / "instances").is_dir():
        r = subprocess.run(["mount", "-t", "tracefs", "nodev", str(TRACEFS)],
                           capture_output=True, text=True)
        if r.returncode or not (TRACEFS / "instances").is_dir():
            die(f"cannot mount tracefs on {TRACEFS}: "
                f"{r.stderr.strip() or 'no instances/ directory'}")
    for ev in EVENTS:
        if not (TRACEFS / "events" / ev).is_dir():
            die(f"tracepoint {ev} not available in this kernel")
    inst = TRACEFS / "instances" / INSTANCE
    if inst.exists():
        inst.rmdir()
    inst.mkdir()
    return inst


def put(path: Path, value: str) -> None:
    path.write_text(value + "\n")


def trace_run(inst: Path, cmd: str, cold: bool, buffer_kb: int) -> str:
    """Run ``sh -c cmd`` with the instance following it; the trace text."""
    put(inst / "tracing_on", "0")
    put(inst / "buffer_size_kb", str(buffer_kb))
    put(inst / "trace_clock", "mono")
    put(inst / "trace", "")
    put(inst / "options/event-fork", "1")
    put(inst / "events/exceptions/page_fault_kernel/filter",
        f"address < {USER_TOP:#x}")
    for ev in EVENTS:
        put(inst / "events" / ev / "enable", "1")
    if cold:
        os.sync()
        put(Path("/proc/sys/vm/drop_caches"), "3")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                 # wait until traced, then exec
        os.close(w)
        os.read(r, 1)
        os.execvp("sh", ["sh", "-c", cmd])
    os.close(r)
    put(inst / "set_event_pid", str(pid))
    put(inst / "tracing_on", "1")
    os.write(w, b"x")
    os.close(w)
    _, status = os.waitpid(pid, 0)
    put(inst / "tracing_on", "0")
    lost = sum(int(m) for st in inst.glob("per_cpu/cpu*/stats")
               for m in re.findall(r"^(?:overrun|dropped events): (\d+)",
                                   st.read_text(), re.M))
    text = (inst / "trace").read_text(errors="replace")
    if lost:
        text += f"\n#LOST {lost}\n"
    for ev in EVENTS:
        put(inst / "events" / ev / "enable", "0")
    put(inst / "set_event_pid", "")
    if os.waitstatus_to_exitcode(status) != 0:
        print(f"  warning: `{cmd}` exited {os.waitstatus_to_exitcode(status)}",
              file=sys.stderr)
    return text


def analyse(text: str, names: dict[int, str]) -> dict:
    """Events, pages and faults of one trace (see the module docstring)."""
    cur: dict[int, dict] = {}             # pid -> open syscall event
    user_pages: dict[int, set] = {}        # pid -> pages it faulted from user
    kern_pages: dict[int, set] = {}        # ... and from kernel mode
    arg_faults: list[dict] = []
    pending: dict[int, dict] = {}          # pid -> last arg fault (major?)
    c = {k: 0 for k in ("syscalls", "events_string", "events_buffer",
                        "pages_string", "pages_buffer",
                        "minor_string", "minor_buffer",
                        "major_string", "major_buffer",
                        "pages_user_faulted_before",
                        "pages_kernel_faulted_before", "kernel_faults_user_addr",
                        "user_faults", "filemap_adds")}
    overflow = "\n#LOST " in text or re.search(r"CPU:\d+ \[LOST", text)
    fault_ips: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            continue
        pid, ev, rest = int(m["pid"]), m["ev"], m["rest"]
        if ev == "sys_enter":
            c["syscalls"] += 1
            pending.pop(pid, None)
            nr, args = rest.split(" (", 1)
            a = [int(x, 16) for x in args.rstrip(")").split(", ")]
            name = names.get(int(nr.split()[1]), "?")
            pages, kind = set(), None
            if name in STRING_ARGS:
                kind = "string"
                pages = {a[i] // PAGE for i in STRING_ARGS[name] if a[i]}
            elif name in BUFFER_IN_ARGS:
                kind = "buffer"
                bi, ci = BUFFER_IN_ARGS[name]
                n = min(a[ci], BUF_CAP)
                if a[bi] and n:
                    pages = set(range(a[bi] // PAGE, (a[bi] + n - 1) // PAGE + 1))
            if kind and pages:
                c[f"events_{kind}"] += 1
                c[f"pages_{kind}"] += len(pages)
                up, kp = user_pages.get(pid, ()), kern_pages.get(pid, ())
                c["pages_user_faulted_before"] += sum(p in up for p in pages)
                c["pages_kernel_faulted_before"] += sum(
                    p in kp and p not in up for p in pages)
                cur[pid] = {"kind": kind, "pages": pages, "faulted": set(),
                            "name": name}
            else:
                cur.pop(pid, None)
        elif ev == "sys_exit":
            cur.pop(pid, None)
            pending.pop(pid, None)
        elif ev == "page_fault_user":
            c["user_faults"] += 1
            pending.pop(pid, None)
            addr = int(rest.split("address=")[1].split()[0], 16)
            user_pages.setdefault(pid, set()).add(addr // PAGE)
        elif ev == "page_fault_kernel":
            c["kernel_faults_user_addr"] += 1
            pending.pop(pid, None)
            f = rest.split()
            addr = int(f[0].split("=")[1], 16)
            ip = f[1].split("=")[1].split("+")[0]
            fault_ips[ip] = fault_ips.get(ip, 0) + 1
            e = cur.get(pid)
            page = addr // PAGE
            kern_pages.setdefault(pid, set()).add(page)
            if e and page in e["pages"] and page not in e["faulted"]:
                e["faulted"].add(page)
                c[f"minor_{e['kind']}"] += 1
                arg_faults.append({"syscall": e["name"], "kind": e["kind"],
                                   "ip": ip, "major": False})
                pending[pid] = arg_faults[-1]
        elif ev == "mm_filemap_add_to_page_cache":
            c["filemap_adds"] += 1
            e = pending.pop(pid, None)
            if e:                                # that fault read storage
                c[f"minor_{e['kind']}"] -= 1
                c[f"major_{e['kind']}"] += 1
                e["major"] = True
    c["trace_overflowed"] = bool(overflow)
    c["arg_faults"] = arg_faults
    c["kernel_fault_ips"] = dict(sorted(fault_ips.items(),
                                        key=lambda kv: -kv[1])[:8])
    return c


def merge(cs: list[dict]) -> dict:
    """Counts of repeated runs of one program, summed."""
    out = {}
    for k, v in cs[0].items():
        if isinstance(v, bool):
            out[k] = any(c[k] for c in cs)
        elif isinstance(v, int):
            out[k] = sum(c[k] for c in cs)
        elif isinstance(v, list):
            out[k] = [x for c in cs for x in c[k]]
        else:                                   # fault ip histogram
            out[k] = {}
            for c in cs:
                for ip, n in c[k].items():
                    out[k][ip] = out[k].get(ip, 0) + n
    return out


def _binom_cdf(k: int, n: int, p: float) -> float:
    if p <= 0:
        return 1.0
    if p >= 1:
        return 1.0 if k >= n else 0.0
    lp, lq = math.log(p), math.log1p(-p)
    return min(1.0, sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1)
                                 - math.lgamma(n - i + 1) + i * lp + (n - i) * lq)
                        for i in range(k + 1)))


def _bisect(f, lo=0.0, hi=1.0) -> float:
    for _ in range(100):                  # f decreasing in p; root f = 0
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return (lo + hi) / 2


def interval(k: int, n: int) -> tuple[float, float]:
    """Clopper-Pearson 95% interval of a binomial rate k/n."""
    if n == 0:
        return (0.0, 1.0)
    lo = 0.0 if k == 0 else _bisect(lambda p: 0.025 - (1 - _binom_cdf(k - 1, n, p)))
    hi = 1.0 if k == n else _bisect(lambda p: _binom_cdf(k, n, p) - 0.025)
    return (lo, hi)


def rates(c: dict) -> dict:
    n = c["pages_string"] + c["pages_buffer"]
    out = {"pages": n}
    for kind in ("minor", "major"):
        k = c[f"{kind}_string"] + c[f"{kind}_buffer"]
        lo, hi = interval(k, n)
        out[kind] = {"faults": k, "p": k / n if n else None,
                     "ci95": [lo, hi]}
    return out


def default_rate(res: dict, kind: str) -> tuple[float, str]:
    """The figure a default takes, and why: the median across programs of
    the warm per-page rate (each program counts once, whatever its number of
    syscalls); if that median is 0, the pooled warm rate k/N, or the
    rule-of-three 95% upper bound 3/N when no program saw one. 2 significant
    digits."""
    per = sorted(c["warm"]["rates"][kind]["p"] for c in res["programs"].values())
    med = (per[len(per) // 2] if len(per) % 2
           else (per[len(per) // 2 - 1] + per[len(per) // 2]) / 2)
    pool = res["pooled"]["warm"]
    k, n = pool[kind]["faults"], pool["pages"]
    if med > 0:
        return float(f"{med:.2g}"), f"warm median across {len(per)} programs"
    if k:
        return float(f"{k / n:.2g}"), f"pooled warm rate, {k} in {n} pages"
    return float(f"{3 / n:.2g}"), f"0 in {n} warm pages: 3/N upper bound"


def programs(tmp: Path, repo: Path) -> dict[str, str]:
    src = repo / "benchmarks/fault_service.c"
    return {
        "ls": "ls -lR /usr/share > /dev/null",
        "tar": "tar cf - /usr/share/doc 2>/dev/null | cat > /dev/null",
        "python": "/usr/bin/python3 -c 'import json, email.parser, "
                  "http.client, xml.dom.minidom, asyncio, unittest, decimal, "
                  "sqlite3, argparse, logging'",
        "gcc": f"gcc -O2 -c {src} -o {tmp}/fault_service.o",
        "git": f"git -C {repo} status > /dev/null",
    }


def facts() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in
                Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "?")
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split(":")[1].strip()
    swap = len(Path("/proc/swaps").read_text().strip().splitlines()) > 1
    return {"kernel": platform.release(), "cpu": cpu, "cpus": os.cpu_count(),
            "memory": mem, "swap": swap,
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}


def table(res: dict) -> str:
    rows = ["| program | run | runs | syscalls | events (string / buffer) | pages "
            "| user-faulted before | minor | major | p_minor (95% CI) "
            "| p_major (95% CI) | kernel faults on user addresses |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for prog, runs in res["programs"].items():
        for run, c in runs.items():
            r = c["rates"]
            f = lambda x: (f"{x['p']:.2g} ({x['ci95'][0]:.2g}-"
                           f"{x['ci95'][1]:.2g})")
            rows.append(
                f"| {prog} | {run} | {c['runs']} | {c['syscalls']} | "
                f"{c['events_string']} / "
                f"{c['events_buffer']} | {r['pages']} | "
                f"{c['pages_user_faulted_before']} | {r['minor']['faults']} | "
                f"{r['major']['faults']} | {f(r['minor'])} | {f(r['major'])} | "
                f"{c['kernel_faults_user_addr']} |")
    for run in ("cold", "warm"):
        p = res["pooled"][run]
        rows.append(f"| **all** | {run} | | | | {p['pages']} | | "
                    f"{p['minor']['faults']} | {p['major']['faults']} | "
                    f"{p['minor']['p']:.2g} ({p['minor']['ci95'][0]:.2g}-"
                    f"{p['minor']['ci95'][1]:.2g}) | {p['major']['p']:.2g} "
                    f"({p['major']['ci95'][0]:.2g}-{p['major']['ci95'][1]:.2g})"
                    f" | |")
    d = res["defaults"]
    why = res["defaults_rule"]
    rows.append(f"\nDefaults: faults.p_minor = {d['p_minor']} "
                f"({why['p_minor']}), faults.p_major = {d['p_major']} "
                f"({why['p_major']}).")
    return "\n".join(rows) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="results/fault_rates")
    ap.add_argument("--buffer-kb", type=int, default=131072,
                    help="ftrace buffer per CPU (KiB)")
    ap.add_argument("--warm-runs", type=int, default=3,
                    help="warm runs per program, pooled (the cold run is one: "
                         "drop_caches slows everyone on the machine)")
    ap.add_argument("--only", default="", help="comma-separated programs")
    a = ap.parse_args(argv)
    repo = Path(__file__).resolve().parents[1]
    names = syscall_names()
    inst = ensure_tracefs()
    res = {"machine": facts(), "method": __doc__, "programs": {},
           "commands": {}}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            progs = programs(Path(tmp), repo)
            only = [p for p in a.only.split(",") if p] or list(progs)
            for prog in only:
                res["commands"][prog] = progs[prog]
                res["programs"][prog] = {}
                for run, n in (("cold", 1), ("warm", a.warm_runs)):
                    cs = [analyse(trace_run(inst, progs[prog], run == "cold",
                                            a.buffer_kb), names)
                          for _ in range(n)]
                    if any(c["trace_overflowed"] for c in cs):
                        die(f"{prog} {run}: the ftrace buffer overflowed; "
                            f"raise --buffer-kb")
                    c = merge(cs)
                    c["runs"] = n
                    c["rates"] = rates(c)
                    res["programs"][prog][run] = c
                    print(f"{prog:7s} {run}: {c['syscalls']} syscalls, "
                          f"{c['rates']['pages']} pages, "
                          f"{c['rates']['minor']['faults']} minor, "
                          f"{c['rates']['major']['faults']} major", flush=True)
    finally:
        inst.rmdir()
    res["pooled"] = {}
    for run in ("cold", "warm"):
        tot = {k: sum(res["programs"][p][run][k] for p in res["programs"])
               for k in ("pages_string", "pages_buffer", "minor_string",
                         "minor_buffer", "major_string", "major_buffer")}
        res["pooled"][run] = rates(tot)
    res["defaults"], res["defaults_rule"] = {}, {}
    for kind in ("minor", "major"):
        v, why = default_rate(res, kind)
        res["defaults"][f"p_{kind}"] = v
        res["defaults_rule"][f"p_{kind}"] = why
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, body in (("fault_rates.json", json.dumps(res, indent=1) + "\n"),
                       ("table.md", table(res))):
        tmpf = out / (name + ".tmp")
        tmpf.write_text(body)
        tmpf.replace(out / name)
    print(table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
