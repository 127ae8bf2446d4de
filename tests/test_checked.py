"""The bounds-checked byte accesses (issue 17, item 6): with FASTRING_DEBUG=1
(or NUMBA_BOUNDSCHECK=1) memcpy, load_i64, store_i64 and memeq raise
IndexError outside their arrays instead of touching memory."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import pytest

from fastring import _intrinsics as I

ROOT = Path(__file__).resolve().parent.parent

PROBE = textwrap.dedent("""
    import numpy as np, numba
    from numba import njit
    from fastring import _intrinsics as I
    assert I.CHECKED == (numba.config.DISABLE_JIT == 0)
    a = np.arange(16, dtype=np.uint8)
    b = np.zeros(16, dtype=np.uint8)
    c = np.zeros(4, dtype=np.int64)

    def calls(a, b, c, op, off, n):     # arrays as arguments: njit freezes globals
        if op == 0:
            I.memcpy(b, off, a, 0, n)
        elif op == 1:
            I.memcpy(b, 0, a, off, n)
        elif op == 2:
            return I.load_i64(a, off)
        elif op == 3:
            I.store_i64(b, off, 7)
        elif op == 4:
            return 1 if I.memeq(a, off, b, 0, n) else 0
        elif op == 5:
            return I.atomic_add(c, off, 1)
        elif op == 6:
            return I.load_acquire(c, off)
        elif op == 7:
            I.store_release(c, off, 1)
        elif op == 8:
            return I.local_add(c, off, 1)
        return 0
    f = calls if numba.config.DISABLE_JIT else njit(_nrt=False)(calls)
    ok = [(0, 0, 16), (1, 8, 8), (2, 8, 0), (3, 8, 0), (4, 16, 0), (0, 16, 0),
          (5, 3, 0), (6, 0, 0), (7, 3, 0), (8, 2, 0)]
    bad = [(0, 1, 16), (1, 9, 8), (0, -1, 2), (2, 9, 0), (2, -1, 0),
           (3, 9, 0), (4, 10, 7), (0, 0, -1)]
    if not numba.config.DISABLE_JIT:      # the plain-Python index fallbacks wrap
        bad += [(5, 4, 0), (6, -1, 0), (7, 4, 0), (8, 4, 0)]
    for args in ok:
        f(a, b, c, *args)
    assert f(a, b, c, 2, 0, 0) == int.from_bytes(bytes(range(8)), "little")
    for args in bad:
        try:
            f(a, b, c, *args)
        except IndexError as exc:
            assert "out of bounds" in str(exc)
        else:
            raise SystemExit(f"no IndexError for {args}")
    print("checked", "fastring-checked-" in (numba.config.CACHE_DIR or ""))
""")


@pytest.mark.parametrize("env", [
    pytest.param({"FASTRING_DEBUG": "1"}, marks=pytest.mark.slow),
    pytest.param({"NUMBA_BOUNDSCHECK": "1"}, marks=pytest.mark.slow),
    {"NUMBA_DISABLE_JIT": "1"}])
def test_byte_accesses_are_bounds_checked(env):
    full = {k: v for k, v in os.environ.items()
            if k not in ("FASTRING_DEBUG", "NUMBA_BOUNDSCHECK", "NUMBA_DISABLE_JIT",
                         "NUMBA_CACHE_DIR")}
    full.update(env, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", PROBE], env=full, cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    jit = "NUMBA_DISABLE_JIT" not in env
    assert p.stdout.strip() == f"checked {jit}"  # a private cache when compiled


@pytest.mark.skipif(not I.CHECKED or numba.config.DISABLE_JIT,
                    reason="only in checked mode (FASTRING_DEBUG=1)")
def test_checked_mode_compiles_the_engine_afresh():
    """A warm cache would serve kernels compiled without the checks: in
    checked mode every kernel is cached in a private directory."""
    from fastring import engine
    assert numba.config.CACHE_DIR and "fastring-checked-" in numba.config.CACHE_DIR
    assert engine.run_chunk._cache._cache_path.startswith(numba.config.CACHE_DIR)
