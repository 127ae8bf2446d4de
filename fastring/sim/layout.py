"""Layouts shared by the engine, the reference engine and the tables: cost
indices, task and CPU records, global fields, counters, histograms, event
columns, status codes. Written once here; everything else imports them by
name. Each concept has its own prefix: ``COST_`` (an index into the cost
vector, named after its key), ``GLOBAL_``, ``COUNT_`` (a counter of
``COUNTER_NAMES``), ``HIST_`` (``HIST_NAMES``), ``EV_`` (a column of
``EVENT_COLUMNS``), ``ST_`` (``STATUS_NAMES``), ``PG_`` (a page's state),
``D_`` (where a copy goes); tasks and CPUs are records with named fields."""
from __future__ import annotations

import numpy as np

from ..world.costs import COST_KEYS


# cost vector indices, one per key of the cost profile (``COST_`` + the key),
# looked up by key: reordering COST_KEYS cannot change what a step charges
(COST_CLOCK_READ, COST_LOCAL_ADD, COST_ATOMIC_ADD, COST_ATOMIC_ADD_CONTENDED,
 COST_LOCAL_CMPXCHG, COST_ATOMIC_CMPXCHG, COST_PREEMPT_OFF, COST_PREEMPT_ON,
 COST_MIGRATE_OFF, COST_MIGRATE_ON, COST_MEMCPY_CALL, COST_MEMCPY_BYTE,
 COST_COPY_FROM_USER_EXTRA, COST_STRNLEN_BYTE, COST_KMALLOC_KFREE,
 COST_CS_COUNT_READ, COST_CONTEXT_SWITCH, COST_COPY_USER_CALL,
 COST_COPY_USER_BYTE) = (COST_KEYS.index(k) for k in (
    "clock_read", "local_add", "atomic_add", "atomic_add_contended",
    "local_cmpxchg", "atomic_cmpxchg", "preempt_off", "preempt_on",
    "migrate_off", "migrate_on", "memcpy_call", "memcpy_byte",
    "copy_from_user_extra", "strnlen_byte", "kmalloc_kfree", "cs_count_read",
    "context_switch", "copy_user_call", "copy_user_byte"))

# task states
THINK, READY, RUN, SLEEP, DONE = range(5)
# One task: a record of named fields (``State.task[i].pc``), the same names
# as the reference engine's ``Task`` attributes, LTTng's where LTTng has one
# (``buf_offset``, ``slot_size``, ``tsc``, ``reserve_cpu``: its ``struct
# lib_ring_buffer_ctx``), each in the narrowest type that holds its values.
# Times (ps), offsets and counts that grow with the run are int64, first (so
# nothing needs padding); 184 bytes a task (the int64 row was 312). Names
# avoid NumPy's scalar attributes (``flags``, ``size``, ``data``...) so that
# the record reads the same compiled or not.
TASK_FIELDS = (
    # the current event
    ("event", np.int64), ("user_addr", np.int64),
    ("start", np.int64),           # the probe's first step (-1 before it)
    ("tsc", np.int64),             # reserve time (LTTng's ctx tsc)
    ("buf_offset", np.int64),      # free-running offset of the reserved slot
    ("section_start", np.int64),   # when preemption was last disabled
    ("last_dur", np.int64),        # duration of the last step
    ("step_minor", np.int64),      # minor-fault time of a step that slept
    ("injected_delay", np.int64),  # pending fault injection's service time
    ("cs_snapshot", np.int64),     # the CPU's switch count at READ_CS
    ("seq", np.int64),             # replay: syscalls issued so far
    # per-event accounting (the event columns)
    ("off_sum", np.int64), ("off_max", np.int64), ("cpu_ps", np.int64),
    ("pin", np.int64),
    ("cpu", np.int32),             # runs on / queued on / last ran on
    ("kind", np.int32), ("payload_len", np.int32),
    ("slot_size", np.int32),       # reserved bytes (-1: none held)
    ("reserve_buf", np.int32),     # the buffer of the reservation
    ("reserve_cpu", np.int32),     # its CPU (-1: dropped or rolled back)
    ("commit_cpu", np.int32),      # -1: never committed
    ("draws", np.int32),           # per-event draw counter
    ("faults_minor", np.int32), ("faults_major", np.int32),
    ("restarts", np.int32), ("retries", np.int32),
    ("pc", np.int16),
    ("state", np.int8),            # THINK, READY, RUN, SLEEP, DONE
    ("status", np.int8),           # ST_* (the event column ``status``)
    ("record_flags", np.int8),     # the record's flags (B.F_DATA_MISSING)
    ("missing", np.int8),          # the last user copy found a page missing
    ("zeroed", np.int8),           # bit ``1 << D_*``: that copy holds zeros
    ("resuming", np.int8),         # the step at pc slept on a major fault
    ("preempt_off", np.int8), ("migrate_off", np.int8),
    ("last_preemptible", np.int8),
    ("injected_kind", np.int8),    # pending fault injection (FAULT_MINOR/MAJOR)
)
TASK_DTYPE = np.dtype(list(TASK_FIELDS), align=True)
# where a user copy writes / a kernel memcpy reads; ``zeroed`` has bit
# ``1 << D_SCRATCH`` or ``1 << D_BOUNCE`` set while that buffer holds zeros
# for a missing page (each copy's outcome belongs to the bytes it wrote);
# the slot's is the record's DATA_MISSING flag (``record_flags``, and its
# header).
D_SLOT, D_SCRATCH, D_BOUNCE = 0, 1, 2
# event status (the per-event column ``status``; names as in the tables)
STATUS_NAMES = ("recorded", "lost_full", "lost_wrap", "lost_big")
ST_RECORDED, ST_LOST_FULL, ST_LOST_WRAP, ST_LOST_BIG = range(len(STATUS_NAMES))
# One CPU (``State.cpu[c]``), named after Linux's ``struct rq``: its current
# task (``curr``, -1: idle), its context switches (``nr_switches``) and its
# run queue, a FIFO list of ``nr_running`` ready tasks linked through
# ``State.rq`` (``rq[task]``: the task queued after it), from ``rq_head`` to
# ``rq_tail``: a task waits in at most one queue, so n_tasks links serve
# every CPU (a square n_cpus x n_tasks array took 32 MB at 1024 CPUs)
CPU_DTYPE = np.dtype([("nr_switches", np.int64), ("curr", np.int32),
                      ("nr_running", np.int32), ("rq_head", np.int32),
                      ("rq_tail", np.int32)], align=True)
# the run's global fields (``State.g``)
(GLOBAL_ISSUED, GLOBAL_COMPLETED, GLOBAL_HEAP_LEN, GLOBAL_TASKS_DONE,
 GLOBAL_NOW, GLOBAL_ROWS, GLOBAL_NEXT_INJECTION, GLOBAL_STEPS,
 N_GLOBAL) = range(9)
# counters (``State.k``), by name; the reference engine keeps the same names
COUNTER_NAMES = ("events", "restarts", "retries", "faults_minor",
                 "faults_major", "migrations", "atomic_ops", "kmallocs",
                 "payload_bytes", "copied_bytes", "data_missing", "cpu_ps",
                 "max_latency_ps", "max_preempt_off_ps",
                 "max_preempt_section_ps", "max_pin_ps", "preemptions",
                 "sleeps", "lost_events", "inject_unapplied")
(COUNT_EVENTS, COUNT_RESTARTS, COUNT_RETRIES, COUNT_FAULTS_MINOR,
 COUNT_FAULTS_MAJOR, COUNT_MIGRATIONS, COUNT_ATOMIC_OPS, COUNT_KMALLOCS,
 COUNT_PAYLOAD_BYTES, COUNT_COPIED_BYTES, COUNT_DATA_MISSING, COUNT_CPU_PS,
 COUNT_MAX_LATENCY, COUNT_MAX_PREEMPT_OFF, COUNT_MAX_PREEMPT_SECTION,
 COUNT_MAX_PIN, COUNT_PREEMPTIONS, COUNT_SLEEPS, COUNT_LOST_EVENTS,
 COUNT_INJECT_UNAPPLIED) = range(len(COUNTER_NAMES))
N_COUNTERS = len(COUNTER_NAMES)
# global fields the reference engine also counts (after the counters)
GLOBAL_COUNTER_NAMES = ("issued", "completed", "steps")
# histograms
HIST_NAMES = ("latency", "preempt_off", "preempt_section", "pin", "delivery")
(HIST_LATENCY, HIST_PREEMPT_OFF, HIST_PREEMPT_SECTION, HIST_PIN,
 HIST_DELIVERY) = range(len(HIST_NAMES))
N_HISTS = len(HIST_NAMES)
# per-event table columns (int64; times in ps)
EVENT_COLUMNS = ("event", "task", "kind", "payload_len", "start_ps", "end_ps",
                 "reserve_cpu", "commit_cpu", "status", "flags",
                 "faults_minor", "faults_major", "restarts", "retries",
                 "preempt_off_ps", "preempt_section_ps", "pin_ps", "cpu_ps",
                 "user_addr")
N_E = len(EVENT_COLUMNS)
(EV_EVENT, EV_TASK, EV_KIND, EV_PAYLOAD_LEN, EV_START, EV_END, EV_RESERVE_CPU,
 EV_COMMIT_CPU, EV_STATUS, EV_FLAGS, EV_FAULTS_MINOR, EV_FAULTS_MAJOR,
 EV_RESTARTS, EV_RETRIES, EV_PREEMPT_OFF, EV_PREEMPT_SECTION, EV_PIN, EV_CPU,
 EV_USER_ADDR) = range(N_E)
# page states of the current event (per task)
PG_UNSEEN, PG_IN, PG_MINOR, PG_MAJOR, PG_INJECTED = 0, 1, 2, 3, 4
