"""What a tracer copies from user memory: capture policies and payload types.

A syscall event's payload is what the tracer copies from user memory into the
record. Which bytes it copies is the tracer's *capture policy*
(``workload.capture``), each one taken from a real tracer:

``strings``  path and string arguments only; data buffers are recorded as
             pointers. lttng-modules today: its syscall instrumentation
             records ``filename``-like arguments with ``ctf_user_string``
             and the ``buf`` of read/write as a hex integer
             (instrumentation/syscalls/headers/syscalls_pointers_override.h,
             include/lttng/tracepoint-event-impl.h).
``ftrace``   strings and the data buffers passed *in* at syscall entry
             (write, sendto, ...), each cut at ``capture_max``, 63 B by
             default. ftrace's faultable syscall events (Linux 6.19,
             kernel/trace/trace_syscalls.c, ``syscall_user_buf_size``:
             CONFIG_SYSCALL_BUF_SIZE_DEFAULT = 63, at most 165). They read
             user memory at ``sys_enter`` only, so a read's buffer (filled by
             the kernel) is not captured.
``full``     strings and every data buffer, in at entry or out at exit
             (read, recvfrom, ...), up to ``capture_max`` (4096 B by
             default): what a tracer that records whole payloads copies
             (lttng-ust's ``ctf_sequence`` of an application buffer).

The payload type of a syscall (``string``, ``buffer`` or ``none``) comes
from its name: the read and write families carry a data buffer whose length
is the call's byte count (its return value; what strace shows when it
failed); any other syscall that takes string arguments (paths, ``execve``'s
argv) carries those strings, each with its terminating NUL (what
``strncpy_from_user`` copies); the rest carry no payload.
"""
from __future__ import annotations

import numpy as np

from .strace import NO_RET, Capture

POLICIES = ("strings", "ftrace", "full")
#: ``workload.capture_max`` when neither the user nor a preset sets it
DEFAULT_MAX = {"strings": 4096, "ftrace": 63, "full": 4096}
#: data passed in at entry / filled in by the kernel, read at exit
BUFFER_IN = frozenset({"write", "pwrite64", "writev", "pwritev", "pwritev2",
                       "send", "sendto", "sendmsg", "sendmmsg"})
BUFFER_OUT = frozenset({"read", "pread64", "readv", "preadv", "preadv2",
                        "recv", "recvfrom", "recvmsg", "recvmmsg"})


def payload_type(name: str, has_strings: bool) -> str:
    """``buffer``, ``string`` or ``none`` for the syscall ``name``."""
    if name in BUFFER_IN or name in BUFFER_OUT:
        return "buffer"
    return "string" if has_strings else "none"


def captured(name: str, payload: str, policy: str) -> bool:
    """Does ``policy`` copy the payload of syscall kind ``name``?"""
    if payload == "none":
        return False
    if payload == "string" or policy == "full":
        return True
    if policy == "strings":
        return False
    return name not in BUFFER_OUT        # ftrace: buffers read at entry only


def kind_payloads(cap: Capture) -> list[str]:
    """The payload type of each of the capture's syscall names."""
    has = np.zeros(len(cap.names), bool)
    has[np.unique(cap.kind[cap.n_str > 0])] = True
    return [payload_type(n, bool(h)) for n, h in zip(cap.names, has)]


def raw_lengths(cap: Capture, payloads: list[str]) -> np.ndarray:
    """Each syscall's full payload length in bytes, before any policy: a
    buffer's byte count, the strings' decoded lengths plus their NULs."""
    ptype = np.array([{"none": 0, "string": 1, "buffer": 2}[p] for p in payloads])[cap.kind]
    ok = (cap.ret != NO_RET) & (cap.ret >= 0)
    buf = np.where(ok, cap.ret, cap.str_len)
    return np.where(ptype == 2, buf,
                    np.where(ptype == 1, cap.str_len + cap.n_str, 0)).astype(np.int64)


def lengths(cap: Capture, payloads: list[str], policy: str, cap_max: int) -> np.ndarray:
    """Each syscall's captured payload length under ``policy``."""
    keep = np.array([captured(n, p, policy) for n, p in zip(cap.names, payloads)])
    raw = raw_lengths(cap, payloads)
    return np.where(keep[cap.kind], np.minimum(raw, cap_max), 0).astype(np.int64)
