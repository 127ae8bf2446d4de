"""A strict, fast reader of ``strace -f -tt|-ttt -T -s N [-yy]`` output.

It turns a capture (plain text or gzip) into one record per syscall
invocation, in fixed-dtype arrays, for replay (:mod:`fastring.world.replay`) and
fitting (:mod:`fastring.world.fit`). What it accepts, line by line:

* an optional pid: a leading ``PID`` column (``-f -o FILE``) or a
  ``[pid N]`` prefix (``-f`` to stderr); a line with neither belongs to the
  traced command itself;
* a timestamp, required: ``HH:MM:SS.frac`` (``-tt``; a step back of more than
  12 hours is a midnight) or ``SECONDS.frac`` (``-ttt``);
* then one of: a complete call ``name(args) = ret [<dur>]``; the first half
  of an interrupted one, ``name(args <unfinished ...>``; its second half,
  ``<... name resumed>args) = ret``; a signal ``--- SIG... ---``; an exit
  ``+++ exited with N +++`` / ``+++ killed by SIG... +++``.

An unfinished/resumed pair is ONE syscall, timed at its entry, with the
strings of both halves; signals and exits are counted, not returned. A call
that never returns (``= ?``) is a syscall; a failed one (``= -1 ENOENT
(...)``) too, with its return value.

For each call it keeps the pid, the entry time (ns), the name, the return
value and the strings given as arguments: their count and summed *decoded*
length (C escapes ``\\n``, octal ``\\177``, hex ``\\x7f`` count one byte; a
string shown truncated, ``"..."...``, counts what is shown and is flagged).
Strings inside structs (``{...}``) are what the kernel wrote or fields of a
record, not string arguments, so only top-level strings and arrays of them
(``execve``'s argv) count. ``-yy`` decorations (``3</etc/passwd>``) are
strace's own annotations and count nothing.

Any other line is an error naming the file and the line, unless the caller
asks to skip such lines (they are then counted, and the first one kept for
the report).
"""
from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass, field

import numpy as np

NO_RET = np.iinfo(np.int64).min      # "= ?": the call never returned

_HEAD = re.compile(
    r"(?:(\d+) +|\[pid +(\d+)\] +)?"                    # pid column / [pid N]
    r"(?:(\d\d):(\d\d):(\d\d)\.(\d+)|(\d+)\.(\d+)) +"   # -tt | -ttt
    r"(.*)$")
_NAME = re.compile(r"<\.\.\. ([a-z_][a-z0-9_]*|\?\?\?) resumed>"   # second half
                   r"|([a-z_][a-z0-9_]*|\?\?\?)\(")                   # a call
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"(\.\.\.)?')
_ESCAPE = re.compile(r"\\(?:[0-7]{1,3}|x[0-9a-fA-F]{2}|.)")
_RET_SEP = re.compile(r"\) +=  ?")      # strace pads short calls to a column
_RET = re.compile(r"(0x[0-9a-fA-F]+|-?\d+|\?)")
_EXIT = re.compile(r"\+\+\+ (?:exited with -?\d+|killed by SIG\w+(?: \(core dumped\))?) \+\+\+$")
_SIGNAL = re.compile(r"--- (?:SIG\w+|stopped by SIG\w+) .*---$|--- SIG\w+ ---$")
_UNFINISHED = "<unfinished ...>"
_DAY_NS = 86_400 * 10**9


class TraceError(ValueError):
    """A capture that cannot be read; the message names the file and line."""


@dataclass
class Capture:
    """The syscalls of one capture, in entry order (see the module doc).

    ``pid`` indexes ``pids`` (in order of first appearance, ``-1`` for the
    traced command's own lines when it has no pid column), ``kind`` indexes
    ``names`` (sorted), ``t_ns`` is the entry time from the capture's first
    line, ``ret`` the return value (``NO_RET`` for ``= ?`` or no return),
    ``str_len`` the summed decoded length of the top-level strings,
    ``n_str`` their count, ``truncated`` whether one was shown cut."""
    path: str
    pids: list[int]
    names: list[str]
    pid: np.ndarray          # int32
    kind: np.ndarray         # int16
    t_ns: np.ndarray         # int64
    ret: np.ndarray          # int64
    str_len: np.ndarray      # int64
    n_str: np.ndarray        # int32
    truncated: np.ndarray    # bool
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.kind)


def _args(text: str, unfinished: bool):
    """Split ``text`` (what follows ``name(`` or ``<... name resumed>``):
    (string count, summed decoded length, truncated?, return value), or None
    when it is neither ``args) = ret...`` nor ``args <unfinished ...>``.
    Only top-level strings of the arguments count (not inside ``{...}``,
    not after the ``=``)."""
    found = _STRING.findall(text) if '"' in text else ()
    if unfinished:
        end, ret = len(text), NO_RET
    else:
        last = text.rfind('"') + 1 if found else 0
        sep = _RET_SEP.search(text, last)
        if sep is None:
            return None
        m = _RET.match(text, sep.end())
        if m is None:
            return None
        r = m.group(1)
        end = sep.start()
        ret = NO_RET if r == "?" else int(r, 16) if r.startswith("0x") else int(r)
    if not found:
        return 0, 0, False, ret
    n = total = 0
    cut = False
    if "{" in text:                       # some strings may be struct fields
        depth, pos, found = 0, 0, []
        for m in _STRING.finditer(text, 0, end):
            seg = text[pos:m.start()]
            depth += seg.count("{") - seg.count("}")
            pos = m.end()
            if depth <= 0:
                found.append(m.groups())
    for raw, dots in found:
        total += len(_ESCAPE.sub("e", raw)) if "\\" in raw else len(raw)
        n += 1
        cut = cut or bool(dots)
    return n, total, cut, ret


def _open_text(path: str):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="latin-1", newline=None)
    return open(path, encoding="latin-1", newline=None)


def parse(path, skip_bad: bool = False) -> Capture:
    """Read a capture (plain or gzip); raises :class:`TraceError` on the
    first line that is not strace output (unless ``skip_bad``), on an empty
    capture, and on one without a single syscall line."""
    path = os.fspath(path)
    b = _Builder()
    pid_l, kind_l, ret_l, len_l, n_l, cut_l = b.pid, b.kind, b.ret, b.len, b.n, b.cut
    pending: dict[int, int] = {}          # pid -> index of its unfinished call
    skipped = signals = exits = lines = orphans = 0
    first_skipped = None
    last_t = 0
    day = 0
    clock = None                          # "tt" or "ttt", fixed by the first line

    def bad(lineno, line, why):
        return TraceError(f"{path}: line {lineno}: {why}: {line[:120]!r}")

    try:
        fh = _open_text(path)
    except OSError as exc:
        raise TraceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        with fh:
            for lineno, line in enumerate(fh, 1):
                lines = lineno
                line = line.rstrip("\r\n")
                m = _HEAD.match(line)
                why = "not strace -tt/-ttt output (no pid/timestamp prefix)"
                body = ""
                if m is not None:
                    pid_a, pid_b, hh, mi, ss, frac, sec, frac2, body = m.groups()
                    body = body.rstrip()
                    this_clock = "tt" if hh is not None else "ttt"
                    if clock is None:
                        clock = this_clock
                    if this_clock != clock:
                        m, why = None, "timestamp format changes (-tt and -ttt mixed)"
                if m is not None:
                    pid = int(pid_a or pid_b or -1)
                    if clock == "tt":
                        t = ((int(hh) * 3600 + int(mi) * 60 + int(ss)) * 10**9
                             + int(frac[:9].ljust(9, "0")))
                        if t + day < last_t - _DAY_NS // 2:
                            day += _DAY_NS        # past midnight
                        t += day
                    else:
                        t = int(sec) * 10**9 + int(frac2[:9].ljust(9, "0"))
                    c0 = body[:1]
                    if c0 == "+" and _EXIT.match(body):
                        exits += 1
                        pending.pop(pid, None)
                        continue
                    if c0 == "-" and _SIGNAL.match(body):
                        signals += 1
                        continue
                    c = _NAME.match(body)
                    if c is not None:
                        resumed, name = c.groups()
                        rest = body[c.end():]
                        unfinished = rest.endswith(_UNFINISHED)
                        got = _args(rest[:-len(_UNFINISHED)] if unfinished else rest,
                                    unfinished)
                        if got is not None:
                            n, total, cut, ret = got
                            if resumed is not None:       # the second half
                                idx = pending.pop(pid, None)
                                if idx is None or b.name_list[kind_l[idx]] != resumed:
                                    orphans += 1          # started before the capture
                                    idx = b.add(resumed, pid, t)
                                len_l[idx] += total
                                n_l[idx] += n
                                cut_l[idx] = cut_l[idx] or cut
                            else:
                                idx = b.add(name, pid, t)
                                len_l[idx], n_l[idx], cut_l[idx] = total, n, cut
                            ret_l[idx] = ret
                            if unfinished:
                                pending[pid] = idx
                            last_t = t
                            continue
                        why = "a call without '= result' or '<unfinished ...>'"
                    else:
                        why = "not a syscall, signal or exit line"
                if not skip_bad:
                    raise bad(lineno, line, why)
                skipped += 1
                if first_skipped is None:
                    first_skipped = (lineno, line[:120])
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise TraceError(f"{path}: cannot read: {exc}") from None
    if lines == 0:
        raise TraceError(f"{path}: line 1: empty capture (no lines at all)")
    if not kind_l:
        where = (f"line {first_skipped[0]}: {first_skipped[1]!r}" if first_skipped
                 else "line 1")
        raise TraceError(f"{path}: no syscall lines in {lines} lines "
                         f"(first bad: {where})")
    order = sorted(b.name_list)
    remap = np.empty(len(order), np.int16)
    for new, name in enumerate(order):
        remap[b.names[name]] = new
    t_ns = np.array(b.t, np.int64)
    return Capture(
        path=path, pids=list(b.pids), names=order,
        pid=np.array(pid_l, np.int32), kind=remap[np.array(kind_l, np.int64)],
        t_ns=t_ns - t_ns.min(), ret=np.array(ret_l, np.int64),
        str_len=np.array(len_l, np.int64), n_str=np.array(n_l, np.int32),
        truncated=np.array(cut_l, bool),
        stats={"lines": lines, "syscalls": len(kind_l), "signals": signals,
               "exits": exits, "skipped": skipped,
               "first_skipped": first_skipped, "resumed_without_start": orphans,
               "truncated_strings": int(sum(cut_l)), "clock": clock})


class _Builder:
    """The growing columns of :func:`parse` (plain lists, one append each)."""

    def __init__(self):
        self.names: dict[str, int] = {}
        self.name_list: list[str] = []
        self.pids: dict[int, int] = {}
        self.pid, self.kind, self.t, self.ret, self.len, self.n, self.cut = (
            [] for _ in range(7))

    def add(self, name: str, pid: int, t: int) -> int:
        k = self.names.get(name)
        if k is None:
            k = self.names[name] = len(self.name_list)
            self.name_list.append(name)
        self.pid.append(self.pids.setdefault(pid, len(self.pids)))
        self.kind.append(k)
        self.t.append(t)
        self.ret.append(NO_RET)
        self.len.append(0)
        self.n.append(0)
        self.cut.append(False)
        return len(self.kind) - 1
