"""Layouts shared by the engine, the reference engine and the tables: cost
indices, task/CPU/global fields, counters, histograms, event columns, status
codes. Written once here; everything else imports them by name."""
from __future__ import annotations

from ..world.costs import COST_KEYS


# cost vector indices, looked up by key: reordering COST_KEYS cannot change
# what a step charges
(C_CLOCK, C_LADD, C_AADD, C_AADD_CONT, C_LCMPXCHG, C_ACMPXCHG, C_POFF, C_PON,
 C_MOFF, C_MON, C_MCALL, C_MBYTE, C_CFU, C_STRNLEN, C_KMALLOC, C_CSREAD,
 C_SWITCH, C_UCALL, C_UBYTE) = (COST_KEYS.index(k) for k in (
    "clock_read", "local_add", "atomic_add", "atomic_add_contended",
    "local_cmpxchg", "atomic_cmpxchg", "preempt_off", "preempt_on",
    "migrate_off", "migrate_on", "memcpy_call", "memcpy_byte",
    "copy_from_user_extra", "strnlen_byte", "kmalloc_kfree", "cs_count_read",
    "context_switch", "copy_user_call", "copy_user_byte"))

# task states
THINK, READY, RUN, SLEEP, DONE = range(5)
# task fields; those a new event resets are contiguous (one slice store
# each: 0 from T_PC to T_PIN, -1 from T_START to T_COMMIT_CPU)
(T_STATE, T_CPU, T_EVENT, T_KIND, T_LEN, T_ADDR, T_RES_OFF, T_RES_TIME,
 T_CS_SNAP, T_N_START, T_LAST_DUR, T_LAST_P,
 T_PC, T_PHASE, T_DRAW, T_FLAGS, T_MISSING, T_MISS_IN, T_STATUS, T_POFF,
 T_MOFF, T_OFF_SUM, T_OFF_MAX, T_CPU_PS, T_FMINOR, T_FMAJOR, T_RESTARTS,
 T_RETRIES, T_INJ_KIND, T_INJ_DELAY, T_STEP_MINOR, T_PIN,
 T_START, T_RES_SIZE, T_RES_BUF, T_RES_CPU, T_COMMIT_CPU, T_SEQ,
 N_T) = range(39)
# where a user copy writes / a kernel memcpy reads; T_MISS_IN has bit
# ``1 << D_SCRATCH`` or ``1 << D_BOUNCE`` set while that buffer holds zeros
# for a missing page (each copy's outcome belongs to the bytes it wrote);
# the slot's is the record's DATA_MISSING flag (T_FLAGS, and its header).
D_SLOT, D_SCRATCH, D_BOUNCE = 0, 1, 2
# event status (the per-event column ``status``; names as in the tables)
STATUS_NAMES = ("recorded", "lost_full", "lost_wrap", "lost_big")
ST_RECORDED, ST_LOST_FULL, ST_LOST_WRAP, ST_LOST_BIG = range(len(STATUS_NAMES))
# cpu fields; a CPU's run queue is a FIFO list of tasks linked through
# ``State.rq`` (``rq[task]``: the task queued after it), from C_RQ_HEAD to
# C_RQ_TAIL: a task waits in at most one queue, so n_tasks links serve every
# CPU (a square n_cpus x n_tasks array took 32 MB at 1024 CPUs)
C_CUR, C_NSW, C_RQ_HEAD, C_RQ_LEN, C_RQ_TAIL, N_C = range(6)
# global fields
(G_ISSUED, G_COMPLETED, G_HEAP, G_TASKS_DONE, G_NOW, G_ROWS, G_INJ,
 G_STEPS, N_G) = range(9)
# counters (``State.k``), by name; the reference engine keeps the same names
COUNTER_NAMES = ("events", "restarts", "retries", "faults_minor",
                 "faults_major", "migrations", "atomic_ops", "kmallocs",
                 "payload_bytes", "copied_bytes", "data_missing", "cpu_ps",
                 "max_latency_ps", "max_preempt_off_ps",
                 "max_preempt_section_ps", "max_pin_ps", "preemptions",
                 "sleeps", "lost_events", "inject_unapplied")
(K_EVENTS, K_RESTARTS, K_RETRIES, K_FMINOR, K_FMAJOR, K_MIGRATIONS,
 K_ATOMIC, K_KMALLOC, K_PAYLOAD, K_COPIED, K_DATA_MISSING, K_CPU_PS,
 K_MAX_LAT, K_MAX_OFF, K_MAX_SEC, K_MAX_PIN, K_PREEMPTIONS, K_SLEEPS,
 K_LOST_EVENTS, K_INJ_UNAPPLIED) = range(len(COUNTER_NAMES))
N_K = len(COUNTER_NAMES)
# global fields the reference engine also counts (after the counters)
GLOBAL_COUNTER_NAMES = ("issued", "completed", "steps")
# histograms
HIST_NAMES = ("latency", "preempt_off", "preempt_section", "pin", "delivery")
H_LAT, H_OFF, H_SEC, H_PIN, H_DELIV = range(len(HIST_NAMES))
N_H = len(HIST_NAMES)
# per-event table columns (int64; times in ps)
EVENT_COLUMNS = ("event", "task", "kind", "payload_len", "start_ps", "end_ps",
                 "reserve_cpu", "commit_cpu", "status", "flags",
                 "faults_minor", "faults_major", "restarts", "retries",
                 "preempt_off_ps", "preempt_section_ps", "pin_ps", "cpu_ps",
                 "user_addr")
N_E = len(EVENT_COLUMNS)
# the task field behind each column (-1: task index and end time, set apart)
EVENT_FIELDS = (T_EVENT, -1, T_KIND, T_LEN, T_START, -1, T_RES_CPU,
                T_COMMIT_CPU, T_STATUS, T_FLAGS, T_FMINOR, T_FMAJOR,
                T_RESTARTS, T_RETRIES, T_OFF_SUM, T_OFF_MAX, T_PIN, T_CPU_PS,
                T_ADDR)
# page states of the current event (per task)
PG_UNSEEN, PG_IN, PG_MINOR, PG_MAJOR, PG_INJECTED = 0, 1, 2, 3, 4
