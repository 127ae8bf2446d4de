import hashlib
from pathlib import Path

from fastring import kernel_cache

PKG = Path(__file__).resolve().parent.parent / "fastring"


def _drop_stale_numba_cache():
    """numba's on-disk cache only notices edits to the file that defines a
    function, not to kernels it inlines from other modules (numba #1833).
    Drop the package's compiled kernels (where :mod:`fastring.kernel_cache`
    puts them, for every subpackage, and any left in the source tree by older
    versions) when any of
    its sources changed, so the tests never run stale compiled code."""
    digest = hashlib.sha256()
    for src in sorted(PKG.rglob("*.py")):
        digest.update(src.read_bytes())
    cache = kernel_cache.package_cache_dir()
    stamp = cache / "fastring-sources.sha256"
    if stamp.is_file() and stamp.read_text() == digest.hexdigest():
        return
    stale = [f for d in kernel_cache.all_cache_dirs() for f in d.glob("*.nb[ic]")]
    for cached in [*stale, *PKG.rglob("__pycache__/*.nb[ic]")]:
        cached.unlink(missing_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest.hexdigest())


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long tests skipped in the JIT-off pass")
    _drop_stale_numba_cache()
