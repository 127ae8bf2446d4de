"""Where the cells run: in this process, in worker processes, or on Dask."""
from __future__ import annotations

import contextlib
import os
import time
import traceback
import warnings
from contextlib import contextmanager

import pyarrow as pa

from ..sim.parallel import default_jobs as default_workers  # one implementation
from .grid import SweepError, _canonical


# ------------------------------------------------------------- the worker

def _run_cell(cfg: dict, cid: str, params: dict) -> dict:
    """Run one cell (in a worker). Never raises: returns the runs table, or
    the error with its traceback."""
    t0 = time.perf_counter()
    info = {"pid": os.getpid(), "host": _hostname(),
            "numba_threads": _numba_threads()}
    try:
        from .. import api
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = api.run(cfg)
        runs = res.runs
        runs = runs.add_column(1, "cell", pa.array([cid] * runs.num_rows, pa.string()))
        meta = dict(runs.schema.metadata or {})
        meta[b"fastring.sweep.cell"] = cid.encode()
        meta[b"fastring.sweep.params"] = _canonical(params).encode()
        return {"ok": True, "runs": runs.replace_schema_metadata(meta),
                "warnings": [str(w.message) for w in caught],
                "wall_s": time.perf_counter() - t0, "worker": info}
    except Exception as exc:   # noqa: BLE001 - a cell fails alone
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
                "wall_s": time.perf_counter() - t0, "worker": info}


def _hostname() -> str:
    try:
        return os.uname().nodename
    except AttributeError:   # pragma: no cover
        import socket
        return socket.gethostname()


def _numba_threads():
    try:
        import numba
        return int(numba.config.NUMBA_NUM_THREADS)
    except Exception:   # noqa: BLE001   # pragma: no cover
        return None


def _failed(exc: BaseException) -> dict:
    return {"ok": False, "error": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(traceback.format_exception(exc)),
            "wall_s": None, "worker": None}


# --------------------------------------------------------------- executors

@contextmanager
def _environ(**env):
    """Set environment variables for the processes started inside."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run_serial(cells, on_done):
    for cell in cells:
        on_done(cell, _run_cell(cell.config, cell.id, cell.params))


def _run_processes(cells, workers, on_done):
    import concurrent.futures as cf
    import multiprocessing as mp
    from ..sim.parallel import stop_pool
    pool = cf.ProcessPoolExecutor(max_workers=workers,
                                  mp_context=mp.get_context("spawn"))
    try:
        # spawn starts the workers as tasks are submitted: they inherit this
        # environment (the calling process has imported Numba already, so
        # its own thread count is unchanged)
        with _environ(NUMBA_NUM_THREADS="1"):
            futures = {pool.submit(_run_cell, c.config, c.id, c.params): c
                       for c in cells}
        for fut in cf.as_completed(futures):
            try:
                result = fut.result()
            except Exception as exc:   # noqa: BLE001 (e.g. a worker died)
                result = _failed(exc)
            on_done(futures[fut], result)
    except BaseException:
        stop_pool(pool)      # interrupted: stop the running cells too
        raise
    pool.shutdown(wait=True)


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise SweepError(
            "--scheduler needs dask.distributed, which is not installed: "
            "pip install 'fastring[dask]' (or pip install 'dask[distributed]')"
            f" ({exc})") from None
    return distributed


@contextmanager
def _dask_client(scheduler: str, workers: int):
    """A Dask client: of a new LocalCluster (``"local"``), or connected to
    the scheduler at an address. Raises SweepError if that fails."""
    distributed = _import_distributed()
    import logging
    with contextlib.ExitStack() as stack:
        try:
            if scheduler == "local":
                cluster = stack.enter_context(distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=logging.ERROR,
                    env={"NUMBA_NUM_THREADS": "1"}))
                client = stack.enter_context(distributed.Client(cluster))
            else:
                client = stack.enter_context(distributed.Client(scheduler,
                                                                timeout="10s"))
        except (OSError, TimeoutError, RuntimeError) as exc:
            raise SweepError(f"--scheduler {scheduler}: cannot "
                             f"{'start' if scheduler == 'local' else 'connect'}: "
                             f"{exc}") from None
        yield client


def _run_dask(cells, client, on_done, grid_sha):
    import distributed
    futures = {}
    for c in cells:
        f = client.submit(_run_cell, c.config, c.id, c.params, pure=False,
                          key=f"fastring-cell-{grid_sha[:8]}-{c.id}")
        futures[f] = c
    try:
        for fut in distributed.as_completed(list(futures)):
            try:
                result = fut.result()
            except Exception as exc:   # noqa: BLE001 (e.g. KilledWorker)
                result = _failed(exc)
            on_done(futures[fut], result)
    except BaseException:
        client.cancel(list(futures))
        raise
