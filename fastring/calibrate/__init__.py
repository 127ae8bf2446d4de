"""Measure a cost profile on the host it runs on (the command line,
``fastring calibrate``, is :mod:`fastring.cli.calibrate`).

The built-in ``default`` profile (:mod:`fastring.costs`) comes from published
figures. This module measures the primitives it can reproduce in user space,
from numba-compiled code (``@njit(cache=True)``), and writes them as a profile
file that ``costs.profile = "FILE"`` loads.

Method
------
Every figure is the median of ``repeats`` runs; each run times a loop of many
operations with ``clock_gettime(CLOCK_MONOTONIC)`` called from inside the
compiled code, and is divided by the number of operations. The spread reported
beside each median is the inter-quartile range (p25-p75) and min/max of the
runs.

The operations are LLVM instructions emitted through numba ``@intrinsic``\\ s on
raw int64 addresses, so the compiler cannot turn them into something else:

==========================  ==================================================
``local_add``               relaxed (``monotonic``) load + add + relaxed store
                            of an int64: a plain ``mov/add/mov``, no ``lock``;
                            8 counters in one cache line, unrolled, so the
                            figure is the throughput cost of one add (what a
                            probe pays), not store-forwarding latency
``atomic_add``              ``atomicrmw add seq_cst`` (``lock add``), same 8
                            counters, one thread
``atomic_add_contended``    ``lock add`` on one int64 that a second thread
                            (``nogil`` numba function on another Python
                            thread) hammers at the same time; runs in which
                            the other thread did not add at least half as
                            often inside the timed window are discarded;
                            skipped on a single-CPU host
``local_cmpxchg``           plain load, compare, store if equal (no
                            ``cmpxchg`` instruction, no ``lock``)
``atomic_cmpxchg``          ``cmpxchg seq_cst`` (``lock cmpxchg``)
``memcpy_call``,            the hot kernel memcpy (bounce or scratch buffer to
``memcpy_byte``             slot, header write): ``llvm.memcpy`` with a
                            run-time length (a call to libc ``memcpy``) for 16
                            B to 4 KiB, source and destination in cache; a
                            line ``call + byte * size`` is fitted per run
                            (weighted by 1/time)
``copy_user_call``,         the cold user copy (``copy_from_user`` at syscall
``copy_user_byte``          entry, from memory not in cache): the same fit,
                            the source spread over a 256 MiB arena (far
                            larger than the last-level cache; lines in
                            pseudo-random order, each copy waiting for the
                            previous one so the miss latency shows), the
                            destination one small buffer that stays cached
``kmalloc_kfree``           libc ``malloc(256)`` + ``free`` on one thread (the
                            user-space stand-in for SLUB's fast path); other
                            sizes (64 B-4 KiB) and a cross-thread variant
                            (allocate on one thread, free on another) go to
                            ``[measured]``
``clock_read``              ``clock_gettime(CLOCK_MONOTONIC)`` (libc, vDSO)
``cs_count_read``           a relaxed load of an int64 per-CPU slot: what the
                            kernel's ``nr_context_switches_cpu()`` does. User
                            space has no such slot, so the cost of the only
                            user-space way to read one's context-switch count,
                            ``getrusage(RUSAGE_THREAD)`` (a system call), is
                            reported under ``[measured]`` for information
==========================  ==================================================

``context_switch`` is measured as lmbench's ``lat_ctx`` does: two threads
pinned to one CPU ping-pong a byte over two pipes (every round trip is two
switches, two writes and two reads), less one pinned thread writing and
reading its own pipe; the round trip and the bare syscalls go to
``[measured]``. Other processes on that CPU inflate it: on a busy host its
spread is wide.

A minor page fault is measured on an anonymous private mapping (transparent
huge pages off): touch every page, ``madvise(MADV_DONTNEED)``, touch again and
time it, minus the time of touching the same pages once resident; the number
of faults is checked with ``getrusage(RUSAGE_THREAD).ru_minflt``. Its median
belongs to ``faults.minor_ns`` of a run config (not to the cost profile) and is
written under ``[measured]``.

Guards against the compiler folding a measurement away: every loop works on
memory reached through a run-time address (it escapes, so stores and calls
cannot be dropped), every kernel's result (final counter values, sums of
returned values, malloc'd addresses) is checked, and the generated assembly of
uncached twins of the kernels is inspected: on x86_64 the atomic kernels must
carry a ``lock`` prefix and the local ones must not, and the memcpy kernels
must call ``memcpy``; a mismatch raises :class:`CalibrationError`.

The CPU time other processes used during the calibration (from
``/proc/stat``) is recorded as ``[host] other_load_cpus``, with a note when
the host was busy: the figures are then inflated and widely spread.

Keys of :data:`fastring.costs.COST_KEYS` that user space cannot measure
(preempt and migrate toggles, ``copy_from_user_extra``, ``strnlen_byte``)
are left out of the profile, so their defaults apply; the
file lists them in a comment.
"""
from __future__ import annotations

from .atomics import atomic_add_threads
from .guards import CalibrationError, check_atomic_asm
from .profile import format_table, measure, write_profile

__all__ = ["measure", "write_profile", "format_table",
           "check_atomic_asm", "atomic_add_threads", "CalibrationError"]
