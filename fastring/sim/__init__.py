"""The compiled discrete-event engine, laid out by concept (see docs/architecture.md).

One heap of pending happenings orders everything in simulated time
(picoseconds, int64): a task's next probe step, a task waking (end of think
time or of a major fault), a reader's next wake. Ties break on the heap code
(tasks by index, then readers), so a run is a pure function of its inputs.
A running task executes its steps back to back without touching the heap
while its next step comes before anything else pending, and a task that
gets an idle CPU goes straight to its first step the same way: the same
order as pushing and popping, only cheaper.

A probe is a strategy program (see :mod:`fastring.strategies`) interpreted
step by step. Each step's effects happen at its start time; its duration is
its cost from the profile plus any minor fault it takes. A major fault sleeps:
the task leaves the CPU for the fault's service time, the CPU runs other
tasks, and the step resumes (possibly on another CPU) when the page is in.
A preemptible step may be preempted at its end, with probability
``1 - exp(-duration / timeslice)``, when another task is ready on that CPU; a
task made ready again lands on another CPU with probability ``p_migrate``
unless migration is disabled.

The engine runs in chunks (:func:`run_chunk` returns after a number of
completed events) so that callers can stream per-event rows and show
progress; stopping between two happenings changes nothing.
"""
