"""Tracer presets (``tracer.preset``): each tracer's documented defaults.

A preset sets the buffer geometry, the reader's timer, the record header and
the capture policy of one real tracer. :func:`fastring.config.load` layers
it between the schema defaults and the user's config: defaults < preset <
source < overrides, so a key the user sets always wins. ``none`` sets
nothing (the schema defaults).

Every value cites where it comes from (``SOURCES``; docs/model.md shows the
table). The model's record header has a floor of 40 B (the verification
fields of :mod:`fastring.model.buffer`); a tracer whose real fixed record part is
smaller is given the floor, and the citation says so.
"""
from __future__ import annotations

PRESETS: dict[str, dict[str, dict]] = {
    "lttng-modules": {
        "buffer": {"subbuf_size": 1 << 20, "n_subbuf": 4, "mode": "discard",
                   "header_size": 40},
        "reader": {"period_ns": 200_000_000},
        "workload": {"capture": "strings"},
    },
    "lttng-ust": {
        "buffer": {"subbuf_size": 1 << 19, "n_subbuf": 4, "mode": "discard",
                   "header_size": 40},
        "reader": {"period_ns": 100_000},
        "workload": {"capture": "full"},
    },
    "ftrace": {
        "buffer": {"subbuf_size": 4096, "n_subbuf": 256, "mode": "overwrite",
                   "header_size": 56},
        "reader": {"period_ns": 1_000_000},
        "workload": {"capture": "ftrace"},
    },
    "none": {},
}
NAMES = tuple(PRESETS)

_LT = "lttng-tools configure.ac / include/config.h (2.10 to 2.14)"
SOURCES: dict[str, dict[str, str]] = {
    "lttng-modules": {
        "buffer.subbuf_size": f"{_LT}: DEFAULT_KERNEL_CHANNEL_SUBBUF_SIZE = 1048576",
        "buffer.n_subbuf": f"{_LT}: DEFAULT_KERNEL_CHANNEL_SUBBUF_NUM = 4",
        "buffer.mode": "lttng-enable-channel(1): discard mode is the default "
                       "(DEFAULT_CHANNEL_OVERWRITE = -1: discard for kernel channels)",
        "buffer.header_size": "lttng-modules compact event header: 32 bits "
                              "(5-bit id, 27-bit timestamp; src/lttng-ring-buffer-"
                              "client.h, lttng_write_event_header) plus a syscall's "
                              "fixed fields (~16 B for openat); below the model's "
                              "40 B floor, so 40",
        "reader.period_ns": f"{_LT}: DEFAULT_KERNEL_CHANNEL_READ_TIMER = 200000 us",
        "workload.capture": "lttng-modules syscall instrumentation: strings with "
                            "ctf_user_string, read/write buffers as pointers "
                            "(instrumentation/syscalls/headers/syscalls_pointers_override.h)",
    },
    "lttng-ust": {
        "buffer.subbuf_size": f"{_LT}: DEFAULT_UST_UID_CHANNEL_SUBBUF_SIZE = 524288 "
                              "(per-user buffers, the default buffering scheme)",
        "buffer.n_subbuf": f"{_LT}: DEFAULT_UST_UID_CHANNEL_SUBBUF_NUM = 4",
        "buffer.mode": "lttng-enable-channel(1): discard mode is the default",
        "buffer.header_size": "lttng-ust compact event header: 32 bits "
                              "(src/common/ringbuffer-clients/template.h); below the "
                              "model's 40 B floor, so 40",
        "reader.period_ns": f"{_LT}: DEFAULT_UST_UID_CHANNEL_READ_TIMER = 0: the "
                            "consumer is woken by the writer when a sub-buffer is "
                            "delivered; modelled as a 100 us poll",
        "workload.capture": "lttng-ust ctf_sequence/ctf_string copy the whole "
                            "application-supplied payload (lttng-ust(3))",
    },
    "ftrace": {
        "buffer.subbuf_size": "Documentation/trace/ftrace.rst, buffer_subbuf_size_kb: "
                              "a sub-buffer is one page (4 KiB) by default",
        "buffer.n_subbuf": "kernel/trace/trace.c: TRACE_BUF_SIZE_DEFAULT = 1441792 B "
                           "per CPU (352 pages), rounded down to a power of two: 256",
        "buffer.mode": "Documentation/trace/ftrace.rst, options/overwrite: on by "
                       "default (the oldest events are overwritten)",
        "buffer.header_size": "include/linux/ring_buffer.h RB_EVNT_HDR_SIZE (4 B) + "
                              "struct trace_entry (8 B) + struct syscall_trace_enter "
                              "nr (4 B, padded to 8) + 4 args x 8 B "
                              "(kernel/trace/trace_syscalls.c ftrace_syscall_enter) "
                              "= 52 B, rounded up to 56",
        "reader.period_ns": "trace-cmd-record(1) -s: the reader sleeps 1000 us "
                            "between reads by default",
        "workload.capture": "kernel/trace/trace_syscalls.c (Linux 6.19), "
                            "syscall_user_buf_size: CONFIG_SYSCALL_BUF_SIZE_DEFAULT "
                            "= 63 B, max 165; user data read at sys_enter",
    },
    "none": {},
}


def values(name: str) -> dict[str, dict]:
    """The preset's partial config (section -> key -> value)."""
    return {sec: dict(keys) for sec, keys in PRESETS[name].items()}


def markdown_table() -> str:
    """The presets and their sources as the Markdown table of docs/model.md
    (a test keeps the two the same)."""
    rows = ["| preset | key | value | source |", "|---|---|---|---|"]
    for name, secs in PRESETS.items():
        for sec, keys in secs.items():
            for k, v in keys.items():
                rows.append(f"| `{name}` | `{sec}.{k}` | `{v}` | "
                            f"{SOURCES[name][f'{sec}.{k}']} |")
    return "\n".join(rows)
