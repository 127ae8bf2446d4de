import hashlib
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "fastring"


def _drop_stale_numba_cache():
    """numba's on-disk cache only notices edits to the file that defines a
    function, not to kernels it inlines from other modules (numba #1833).
    Drop the package's cache when any of its sources changed, so the tests
    never run stale compiled code."""
    digest = hashlib.sha256()
    for src in sorted(PKG.rglob("*.py")):
        digest.update(src.read_bytes())
    stamp = PKG / "__pycache__" / "fastring-sources.sha256"
    if stamp.is_file() and stamp.read_text() == digest.hexdigest():
        return
    for cached in PKG.rglob("__pycache__/*.nb[ic]"):
        cached.unlink(missing_ok=True)
    stamp.parent.mkdir(exist_ok=True)
    stamp.write_text(digest.hexdigest())


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long tests skipped in the JIT-off pass")
    _drop_stale_numba_cache()
