"""One line of meaning per config key, keyed by dotted key: what ``fastring
config`` prints beside each key and docs/config.md lists (the types, ranges
and defaults come from :data:`fastring.config.SCHEMA` itself).

Keys of user-named entries use ``NAME`` (``workload.syscalls.NAME.weight``),
keys of list records ``[]`` (``faults.inject[].event``). A test checks that
every schema key has a line here: a new key needs its meaning too.
"""

MEANINGS = {
    # run
    "run.seed": "random seed: the same seed and config give the same tables, bit for bit",
    "run.events": "syscall events simulated per strategy",
    "run.strategies": "the strategies to run, in table order (fastring strategies lists them)",
    "run.chunk_events": "events per engine call: bounds memory and paces progress updates",
    # machine
    "machine.n_cpus": "CPUs, each with its own ring buffer and reader",
    "machine.tasks_per_cpu": "tasks per CPU, each a closed loop of think, syscall, probe",
    "machine.timeslice_ns": "mean time before a preemptible section is preempted when "
                            "another task is ready",
    "machine.p_migrate": "probability that a task resuming after a sleep or preemption "
                         "lands on another CPU",
    # tracer
    "tracer.preset": "a tracer's documented buffer, reader, header and capture "
                     "defaults; keys set by the user win",
    # buffer
    "buffer.subbuf_size": "bytes per sub-buffer",
    "buffer.n_subbuf": "sub-buffers per CPU buffer",
    "buffer.mode": "when the buffer is full: discard new records, or overwrite the "
                   "oldest sub-buffer",
    "buffer.header_size": "bytes of record header (timestamp, id, length)",
    "buffer.payload": "bytes: copy real payload bytes; sizes: offsets, counters and "
                      "headers only (faster)",
    # reader
    "reader.period_ns": "the consumer wakes up this often to read complete sub-buffers",
    "reader.bytes_per_ns": "the consumer's read speed",
    "reader.verify": "parse every record and check its header, timestamp order and "
                     "payload bytes",
    # workload
    "workload.source": "synthetic: the syscall mix below; trace: replay an strace capture",
    "workload.trace": "the strace -f -tt -T capture replayed when source = \"trace\"",
    "workload.trace_loops": "how many times the capture is replayed",
    "workload.trace_skip_bad": "skip (and count) capture lines that are not strace "
                               "output instead of stopping at the first",
    "workload.capture": "what the tracer copies: strings only (lttng-modules), strings "
                        "and entry buffers cut at capture_max (ftrace), or every buffer",
    "workload.replace_mix": "the config's syscall kinds are the whole mix (fastring fit "
                            "writes this) instead of merging into the default mix",
    "workload.think_ns": "mean think time between a task's syscalls (exponential)",
    "workload.capture_max": "the most payload bytes one event captures (default: the "
                            "capture policy's: 4096, ftrace 63)",
    "workload.user_pages": "4 KiB pages of simulated user memory",
    "workload.working_set_pages": "pages each task draws its payload addresses from",
    "workload.syscalls": "the syscall mix: event kinds by name",
    "workload.syscalls.NAME.weight": "relative frequency of this kind",
    "workload.syscalls.NAME.payload": "what the event copies from user memory",
    "workload.syscalls.NAME.len_median": "median payload length in bytes (lognormal)",
    "workload.syscalls.NAME.len_sigma": "sigma of the payload length's lognormal",
    # live
    "live.allow_unsafe": "fastring live only: admit the commit_unsafe step (a plain add "
                         "where an atomic one is needed), to show the lost commits",
    "live.faults": "fastring live only: inject faults, or take real ones (file-backed "
                   "arena whose pages a helper thread drops)",
    "live.p_preempt": "fastring live only: probability that a preemptible step is "
                      "preempted (the probe then may finish on another CPU)",
    "live.drop_pages_per_s": "fastring live only, faults = real: arena pages dropped "
                             "per second",
    "live.timeout_s": "fastring live only: stop after this long without a finished "
                      "event, and report what was stuck",
    # faults
    "faults.model": "bernoulli: a page misses with a fixed probability; residency: "
                    "pages are evicted over time",
    "faults.p_minor": "bernoulli: probability that a page's first touch faults minor "
                      "(default measured: results/fault_rates)",
    "faults.p_major": "bernoulli: probability that a page's first touch faults major "
                      "(default: a measured upper bound, results/fault_rates)",
    "faults.residency_ns": "residency: mean time a page stays resident after it is "
                           "faulted in",
    "faults.p_major_given_missing": "residency, and pages taken by reclaim: "
                                    "probability that a missing page faults "
                                    "major (else minor)",
    "faults.minor_ns": "median service time of a minor fault (holds the CPU)",
    "faults.major_ns": "median service time of a major fault (the task sleeps)",
    "faults.sigma": "sigma of the fault service times' lognormal",
    "faults.reclaim_ns": "memory pressure: mean time before reclaim evicts a page "
                         "an event has again (0: no reclaim)",
    "faults.inject": "faults forced at given events, on top of the model",
    "faults.inject[].event": "the event (global index, in issue order) that faults",
    "faults.inject[].kind": "minor or major",
    "faults.inject[].delay_ns": "how long the injected fault takes",
    # costs
    "costs.profile": "cost profile: a built-in name or a file from fastring calibrate",
    "costs.clock_read": "reading the clock for the record timestamp",
    "costs.local_add": "a per-CPU add without lock prefix (local commit)",
    "costs.atomic_add": "a lock add, uncontended",
    "costs.atomic_add_contended": "a lock add on a cache line another CPU writes",
    "costs.local_cmpxchg": "a reserve on the own CPU's buffer (no lock prefix)",
    "costs.atomic_cmpxchg": "a reserve with lock cmpxchg",
    "costs.preempt_off": "preempt_disable()",
    "costs.preempt_on": "preempt_enable()",
    "costs.migrate_off": "migrate_disable()",
    "costs.migrate_on": "migrate_enable()",
    "costs.memcpy_call": "the fixed cost of one memcpy call",
    "costs.memcpy_byte": "memcpy, per byte (a hot kernel copy)",
    "costs.copy_user_call": "the fixed cost of one cold copy_from_user (a cache miss on user memory)",
    "costs.copy_user_byte": "copy_from_user from cold user memory, per byte",
    "costs.copy_from_user_extra": "what copy_from_user adds to a memcpy call",
    "costs.strnlen_byte": "strnlen_user, per byte",
    "costs.kmalloc_kfree": "a kmalloc + kfree pair",
    "costs.cs_count_read": "reading this CPU's context-switch count",
    "costs.context_switch": "the scheduler switching tasks on a CPU",
    # strategies
    "strategies": "user-defined strategies, by name (docs/strategies.md)",
    "strategies.NAME.program": "the strategy's steps, one per string",
    "strategies.NAME.description": "one line shown by fastring strategies",
}
