"""The strategies of one run in parallel processes (``fastring.run(jobs=N)``).

Each strategy replays the same world from the same seed and shares nothing
with the others, so it can run in a process of its own: the parent hands
out strategy names to ``jobs`` worker processes (``spawn``: no fork of a
process that holds Arrow's or numba's threads), each builds the world and
runs :func:`fastring.api.simulate_strategy`, the very function the
sequential loop calls, and sends back the summary, the buffer rows and, if
asked, the per-event batches. Results are put back in the config's strategy
order, so the tables are the same bit for bit as a sequential run's.
Progress messages come back through a queue and reach the caller's
``progress`` callback in the parent. Workers ignore SIGINT: on Ctrl-C the
parent terminates them and re-raises KeyboardInterrupt.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue as queue_mod
import signal

_progress_queue = None          # in a worker: where progress messages go


def default_jobs() -> int:
    """All the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _init_worker(progress_queue) -> None:
    global _progress_queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # the parent handles Ctrl-C
    _progress_queue = progress_queue


def _report(strategy: str, done: int, total: int) -> None:
    _progress_queue.put((strategy, done, total))


def _job(cfg: dict, name: str, events_table: bool, with_progress: bool):
    from ..api import simulate_strategy
    return simulate_strategy(cfg, name, events_table=events_table,
                             progress=_report if with_progress else None)


def run_strategies(cfg: dict, jobs: int, events_table: bool, progress=None) -> list:
    """``simulate_strategy(cfg, name, ...)`` of every strategy of ``cfg`` in
    ``jobs`` processes; the results in strategy order."""
    names = cfg["run"]["strategies"]
    ctx = mp.get_context("spawn")
    messages = ctx.Queue()
    old = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"     # inherited by the workers
    pool = cf.ProcessPoolExecutor(max_workers=min(jobs, len(names)), mp_context=ctx,
                                  initializer=_init_worker, initargs=(messages,))
    try:
        futures = [pool.submit(_job, cfg, name, events_table, progress is not None)
                   for name in names]
        waiting = set(futures)
        while waiting:
            _, waiting = cf.wait(waiting, timeout=0.1, return_when=cf.FIRST_COMPLETED)
            _drain(messages, progress)
        _drain(messages, progress)
        results = [f.result() for f in futures]        # a worker's exception re-raised
    except BaseException:
        stop_pool(pool)
        raise
    finally:
        if old is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = old
    pool.shutdown(wait=True)
    return results


def stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel what has not started and terminate the running workers
    (interrupted: their results would be thrown away, and without this the
    interpreter's exit would wait for them)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()


def _drain(messages, progress) -> None:
    while True:
        try:
            msg = messages.get_nowait()
        except queue_mod.Empty:
            return
        if progress is not None:
            progress(*msg)
