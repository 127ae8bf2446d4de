"""Strategies are data: short programs of primitive probe steps.

A strategy is a list of steps, each a line ``[label:] op [args]``. The engine
interprets them; a user defines a new strategy in TOML without touching it::

    [strategies.task_bounce]
    description = "per-task preallocated bounce buffer"
    program = ["copy_user_to_bounce", "preempt_off", "reserve",
               "memcpy_bounce_to_slot", "commit_local", "preempt_on"]

Steps (P = preemptible: may fault, sleep, be preempted, migrate;
N = preemption off):

=========================  ====================================================
``preempt_off``/``_on``    enter / leave an N section
``migrate_off``/``_on``    migrate_disable() / migrate_enable()
``strnlen``                strnlen_user over a string payload (touches its pages)
``fault_in``               fault in every page of the payload (P)
``kmalloc`` / ``kfree``    allocate / free the task's bounce buffer
``copy_user_to_slot``      copy_from_user into the reserved slot; add
                           ``nofault`` to copy with page faults disabled
                           (a missing page: the record is zero-filled and
                           flagged DATA_MISSING)
``copy_user_to_scratch``   ... into this CPU's scratch buffer
``copy_user_to_bounce``    ... into the task's bounce buffer
``memcpy_scratch_to_slot`` memcpy from the scratch buffer into the slot
``memcpy_bounce_to_slot``  memcpy from the bounce buffer into the slot
``reserve [atomic]``       reserve on the current CPU (N); ``atomic``: with
                           lock cmpxchg as lttng-ust does
``rollback``               roll the reservation back, or commit it as padding
``commit_local``           plain add to the reserving CPU's LOCAL counter
``commit_split``           LOCAL add if still on the reserving CPU, else an
                           atomic add to its REMOTE counter
``commit_atomic``          atomic add on one shared counter
``commit_unsafe``          as ``commit_split``, but the add from another CPU
                           is a plain one into LOCAL: the race the split
                           counters exist to prevent. Refused unless
                           ``live.allow_unsafe = true``; the simulation is
                           sequential and runs it as ``commit_split``,
                           ``fastring live`` runs the real race
``read_cs``                remember this CPU's context-switch count
``retry_if_cs_changed L N`` jump to L if the count changed since ``read_cs``,
                           at most N times; past that the record is written
                           DATA_MISSING
``if_missing L N``         jump to L if the last copy found a page missing,
                           at most N times
``goto L`` / ``end``       jump / finish the probe
=========================  ====================================================

:func:`compile_program` parses a program and rejects one that would corrupt
the buffer or hang: reserve outside an N section or twice, a copy into a slot
with no reservation, a commit or rollback with none, ``commit_local`` after
the task may have migrated, a faulting copy inside an N section, scratch
bytes used after the task could have left the CPU, unbalanced sections or
bounce allocations at the end, a jump to an unknown label, and any loop that
does not pass through the taken branch of a bounded jump.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import ConfigError

# opcodes (the engine dispatches on these)
(PREEMPT_OFF, PREEMPT_ON, MIGRATE_OFF, MIGRATE_ON, STRNLEN, FAULT_IN,
 KMALLOC, KFREE, COPY_TO_SLOT, COPY_TO_SCRATCH, COPY_TO_BOUNCE,
 MEMCPY_SCRATCH, MEMCPY_BOUNCE, RESERVE, ROLLBACK, COMMIT_LOCAL,
 COMMIT_SPLIT, COMMIT_ATOMIC, READ_CS, RETRY_IF_CS, IF_MISSING, GOTO,
 END) = range(23)

OPS = {
    "preempt_off": PREEMPT_OFF, "preempt_on": PREEMPT_ON,
    "migrate_off": MIGRATE_OFF, "migrate_on": MIGRATE_ON,
    "strnlen": STRNLEN, "fault_in": FAULT_IN,
    "kmalloc": KMALLOC, "kfree": KFREE,
    "copy_user_to_slot": COPY_TO_SLOT, "copy_user_to_scratch": COPY_TO_SCRATCH,
    "copy_user_to_bounce": COPY_TO_BOUNCE,
    "memcpy_scratch_to_slot": MEMCPY_SCRATCH,
    "memcpy_bounce_to_slot": MEMCPY_BOUNCE,
    "reserve": RESERVE, "rollback": ROLLBACK,
    "commit_local": COMMIT_LOCAL, "commit_split": COMMIT_SPLIT,
    "commit_atomic": COMMIT_ATOMIC,
    "read_cs": READ_CS, "retry_if_cs_changed": RETRY_IF_CS,
    "if_missing": IF_MISSING, "goto": GOTO, "end": END,
}
COMMIT_UNSAFE = END + 1
OPS["commit_unsafe"] = COMMIT_UNSAFE
OP_NAMES = {v: k for k, v in OPS.items()}
USER_COPIES = (COPY_TO_SLOT, COPY_TO_SCRATCH, COPY_TO_BOUNCE)
JUMPS = (RETRY_IF_CS, IF_MISSING, GOTO)
BOUNDED = (RETRY_IF_CS, IF_MISSING)
MAX_BOUND = 10_000
MAX_STEPS = 256

# A compiled program is an int64 array of rows [op, arg, target, bound, slot]:
# arg = 1 for ``nofault`` copies and ``atomic`` reserves; slot numbers the
# bounded jumps (their per-event counters).
OP, ARG, TARGET, BOUND, SLOT = range(5)

BUILTIN = {
    "nofault": (
        "N: reserve, copy with page faults disabled (a missing page: "
        "zero-filled, DATA_MISSING), local commit. lttng-modules, ftrace, "
        "perf, BPF today.",
        ["preempt_off",
         "reserve",
         "copy_user_to_slot nofault",
         "commit_local",
         "preempt_on"]),
    "kmalloc_bounce": (
        "P: kmalloc, copy_from_user into it; N: reserve, memcpy, local "
        "commit; P: kfree. Desnoyers' 2021 prototype.",
        ["kmalloc",
         "copy_user_to_bounce",
         "preempt_off",
         "reserve",
         "memcpy_bounce_to_slot",
         "commit_local",
         "preempt_on",
         "kfree"]),
    "percpu_retry": (
        "P (migration disabled): copy into this CPU's scratch buffer, retry "
        "while the CPU's context-switch count changed (at most 100 tries); "
        "N: reserve, memcpy, local commit. Rostedt's trace_user_fault_read().",
        ["preempt_off",
         "try: read_cs",
         "migrate_off",
         "preempt_on",
         "copy_user_to_scratch",
         "preempt_off",
         "migrate_on",
         "retry_if_cs_changed try 99",       # 100 tries in all
         "reserve",
         "memcpy_scratch_to_slot",
         "commit_local",
         "preempt_on"]),
    "copy_then_commit": (
        "P: length; N: reserve; P: copy_from_user into the slot (may fault, "
        "migrate); N: commit, LOCAL if still on the reserving CPU else atomic "
        "REMOTE. Desnoyers' split-counter proposal.",
        ["strnlen",
         "preempt_off",
         "reserve",
         "preempt_on",
         "copy_user_to_slot",
         "preempt_off",
         "commit_split",
         "preempt_on"]),
    "copy_then_commit_atomic": (
        "As copy_then_commit, but reserve with lock cmpxchg and every commit "
        "an atomic add on one counter. lttng-ust today.",
        ["strnlen",
         "preempt_off",
         "reserve atomic",
         "preempt_on",
         "copy_user_to_slot",
         "preempt_off",
         "commit_atomic",
         "preempt_on"]),
    "restart_on_fault": (
        "P: prefetch; N: reserve, copy with faults disabled; on a missing "
        "page roll back (or pad), fault it in and restart, at most 8 times, "
        "then write DATA_MISSING. Lai Jiangshan's reply.",
        ["strnlen",
         "again: fault_in",
         "preempt_off",
         "reserve",
         "copy_user_to_slot nofault",
         "if_missing undo 8",
         "commit_local",
         "preempt_on",
         "end",
         "undo: rollback",
         "preempt_on",
         "goto again"]),
}
#: the built-in strategies' names, in the order the tables list them
NAMES = tuple(BUILTIN)


class ProgramError(ConfigError):
    """An invalid strategy program; the message names the strategy and step.
    A :class:`~fastring.errors.ConfigError` (and so a ValueError): the
    programs are part of the config, and :func:`fastring.config.load`
    compiles them."""


def _parse(name: str, program: list[str]):
    labels, rows = {}, []
    for i, line in enumerate(program):
        text = line.split("#", 1)[0].strip()
        if ":" in text:
            label, text = (s.strip() for s in text.split(":", 1))
            if not label.isidentifier() or label in labels:
                raise ProgramError(f"strategies.{name}.program[{i}]: bad or "
                                   f"repeated label {label!r}")
            labels[label] = i
        words = text.split()
        if not words or words[0] not in OPS:
            raise ProgramError(
                f"strategies.{name}.program[{i}]: unknown step {text!r}; "
                f"known steps: {', '.join(OPS)}")
        rows.append(words)
    return labels, rows


def _row(name, i, words, labels, n_bounded):
    op = OPS[words[0]]
    args = words[1:]
    where = f"strategies.{name}.program[{i}] ({' '.join(words)})"
    row = [op, 0, -1, 0, -1]
    want = {RETRY_IF_CS: 2, IF_MISSING: 2, GOTO: 1}.get(op, 0)
    if op in USER_COPIES and args == ["nofault"]:
        row[ARG] = 1
    elif op == RESERVE and args == ["atomic"]:
        row[ARG] = 1
    elif len(args) != want:
        raise ProgramError(f"{where}: expects {want} argument(s)")
    if op in JUMPS:
        if args[0] not in labels:
            raise ProgramError(f"{where}: unknown label {args[0]!r}")
        row[TARGET] = labels[args[0]]
    if op in BOUNDED:
        try:
            bound = int(args[1])
        except ValueError:
            bound = -1
        if not 0 <= bound <= MAX_BOUND:
            raise ProgramError(f"{where}: the bound must be an integer in "
                               f"[0, {MAX_BOUND}], got {args[1]!r}")
        row[BOUND] = bound
        row[SLOT] = n_bounded
    return row


def _check_loops(name, code):
    """Every cycle must pass through the taken branch of a bounded jump:
    the graph without those edges is acyclic."""
    n = len(code)

    def succ(i):
        op = code[i][OP]
        if op == END:
            return []
        if op == GOTO:
            return [code[i][TARGET]]
        return [i + 1] if i + 1 < n else []

    colour = [0] * n                       # 0 new, 1 on stack, 2 done
    for start in range(n):
        if colour[start]:
            continue
        stack = [(start, iter(succ(start)))]
        colour[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = 2
                stack.pop()
            elif colour[nxt] == 1:
                raise ProgramError(
                    f"strategies.{name}: unbounded loop through step {nxt} "
                    f"({OP_NAMES[code[nxt][OP]]}); loop back with "
                    f"retry_if_cs_changed or if_missing and a bound")
            elif colour[nxt] == 0:
                colour[nxt] = 1
                stack.append((nxt, iter(succ(nxt))))


class _PathState(NamedTuple):
    """Where one path through a program stands, as the checker walks it."""
    pc: int = 0
    reserved: bool = False
    preempt_off: bool = False
    migrate_off: bool = False
    pinned: bool = False          # not migrated since reserve
    scratch_ok: bool = False      # the scratch buffer holds this CPU's copy
    bounce_alloc: bool = False
    bounce_full: bool = False


# the steps that switch one flag: (the flag, its new value, the error when
# it already has that value)
_TOGGLES = {
    PREEMPT_OFF: ("preempt_off", True, "preemption is already off"),
    PREEMPT_ON: ("preempt_off", False, "preemption is already on"),
    MIGRATE_OFF: ("migrate_off", True, "migration is already disabled"),
    MIGRATE_ON: ("migrate_off", False, "migration is already enabled"),
    KMALLOC: ("bounce_alloc", True, "the bounce buffer is already allocated"),
    KFREE: ("bounce_alloc", False, "kfree without kmalloc"),
}


def _check_paths(name, code, allow_unsafe=False):
    """Walk every path with an abstract state and reject unsafe programs."""
    n = len(code)
    seen, todo = set(), [_PathState()]
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        pc = s.pc
        if pc >= n or code[pc][OP] == END:
            problems = [msg for bad, msg in (
                (s.reserved, "a reservation is never committed"),
                (s.preempt_off, "preemption is still off"),
                (s.migrate_off, "migration is still disabled"),
                (s.bounce_alloc, "the kmalloc'd bounce buffer is never freed"))
                if bad]
            if problems:
                raise ProgramError(f"strategies.{name}: at the end of a path "
                                   f"{'; '.join(problems)}")
            continue
        op, arg = code[pc][OP], code[pc][ARG]
        where = f"strategies.{name}.program[{pc}] ({OP_NAMES[op]})"

        def fail(msg):
            raise ProgramError(f"{where}: {msg}")

        nxt = [pc + 1]
        if op in _TOGGLES:
            flag, value, already = _TOGGLES[op]
            if getattr(s, flag) == value:
                fail(already)
            s = s._replace(**{flag: value})
            if op == KFREE:
                s = s._replace(bounce_full=False)
        elif op in (STRNLEN, FAULT_IN) and s.preempt_off:
            fail("touches user pages (may fault) inside a preempt-off section")
        elif op in USER_COPIES:
            if s.preempt_off and not arg:
                fail("a copy that may fault inside a preempt-off section; "
                     "add 'nofault' or move it to a preemptible section")
            if op == COPY_TO_SLOT and not s.reserved:
                fail("copy into a slot with no reservation")
            if op == COPY_TO_SCRATCH:
                if not (s.migrate_off or s.preempt_off):
                    fail("copy into the per-CPU scratch buffer with migration "
                         "enabled")
                s = s._replace(scratch_ok=True)
            if op == COPY_TO_BOUNCE:
                s = s._replace(bounce_full=True)
        elif op in (MEMCPY_SCRATCH, MEMCPY_BOUNCE):
            if not s.reserved:
                fail("copy into a slot with no reservation")
            if op == MEMCPY_SCRATCH and not s.scratch_ok:
                fail("the scratch buffer holds no copy made on this CPU")
            if op == MEMCPY_BOUNCE and not s.bounce_full:
                fail("the bounce buffer holds no copy")
        elif op == RESERVE:
            if s.reserved:
                fail("reserve while a reservation is open")
            if not s.preempt_off:
                fail("reserve outside a preempt-off section")
            s = s._replace(reserved=True, pinned=True)
        elif op in (COMMIT_LOCAL, COMMIT_SPLIT, COMMIT_ATOMIC, COMMIT_UNSAFE,
                    ROLLBACK):
            if op == COMMIT_UNSAFE and not allow_unsafe:
                fail("commit_unsafe adds to another CPU's counter without an "
                     "atomic and loses commits; set live.allow_unsafe = true "
                     "to run it on purpose")
            if not s.reserved:
                fail("commit or rollback before reserve")
            if op in (COMMIT_LOCAL, ROLLBACK) and not s.pinned:
                fail("the task may have migrated since reserve: use "
                     "commit_split or commit_atomic")
            s = s._replace(reserved=False)
        elif op in BOUNDED:
            nxt = [pc + 1, code[pc][TARGET]]
        elif op == GOTO:
            nxt = [code[pc][TARGET]]
        if not (s.preempt_off or s.migrate_off):
            s = s._replace(pinned=False, scratch_ok=False)
        todo.extend(s._replace(pc=p) for p in nxt)


def compile_program(name: str, program, allow_unsafe: bool = False) -> np.ndarray:
    """Parse and check ``program`` (list of step strings); return its rows.
    ``allow_unsafe`` admits ``commit_unsafe`` (``live.allow_unsafe``)."""
    if isinstance(program, str) or not program:
        raise ProgramError(f"strategies.{name}.program must be a non-empty "
                           f"list of steps")
    if len(program) > MAX_STEPS:
        raise ProgramError(f"strategies.{name}.program has {len(program)} "
                           f"steps; at most {MAX_STEPS}")
    labels, words = _parse(name, list(program))
    code, n_bounded = [], 0
    for i, w in enumerate(words):
        row = _row(name, i, w, labels, n_bounded)
        n_bounded += row[OP] in BOUNDED
        code.append(row)
    _check_loops(name, code)
    _check_paths(name, code, allow_unsafe)
    code.append([END, 0, -1, 0, -1])       # falling off the end finishes
    return np.array(code, dtype=np.int64)


def program_of(name: str, cfg: dict | None = None) -> list[str]:
    """The steps of strategy ``name``: the config's own, else the built-in's."""
    user = (cfg or {}).get("strategies", {})
    return user[name]["program"] if name in user else BUILTIN[name][1]


def programs(cfg: dict, names=None) -> dict[str, np.ndarray]:
    """Compiled programs of ``names`` (default: ``cfg['run']['strategies']``).
    :func:`fastring.config.load` calls this once and keeps the result
    (:func:`fastring.config.programs`): call that instead on a loaded config."""
    allow_unsafe = cfg.get("live", {}).get("allow_unsafe", False)
    return {name: compile_program(name, program_of(name, cfg), allow_unsafe)
            for name in (cfg["run"]["strategies"] if names is None else names)}


def describe(name: str, cfg: dict | None = None) -> str:
    user = (cfg or {}).get("strategies", {})
    if name in user:
        return user[name].get("description", "")
    return BUILTIN[name][0]
