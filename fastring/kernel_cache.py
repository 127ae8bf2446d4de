"""Where numba keeps fastring's compiled kernels, and whether they are there.

By default numba writes a ``cache=True`` function's machine code next to its
source, in ``fastring/__pycache__``. For an installed package that directory
outlives ``pip uninstall`` and, left holding only cache files, imports as an
empty namespace package that shadows a later editable install (issue #12).
So fastring keeps its kernels in the user's cache directory instead:
``$NUMBA_CACHE_DIR`` when set, else ``~/.cache/fastring/numba`` (XDG, or the
platform's cache directory). numba reads ``numba.config.CACHE_DIR`` when a
cache=True function is *decorated*, so :func:`setup` runs in
``fastring/__init__.py`` before any kernel module is imported. It also sets
the environment variable, which sweep workers and other child processes
inherit, and which survives numba re-reading its environment.

The default directory has one subdirectory per fastring version
(``~/.cache/fastring/numba/0.4.0``): an upgrade installed at the same path
must not read the old version's index files, because numba unpickles an
index (with the types of the cached signatures) before it compares the
source stamps, and a type whose module moved (``fastring.world.World``
became ``fastring.world.prepare.World`` in 0.4.0) made that unpickling fail
with an AttributeError instead of a cache miss. Inside it numba keeps one
subdirectory per source directory (named after it plus a hash of its
absolute path), so several checkouts or installs never share compiled code.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ENV = "NUMBA_CACHE_DIR"
PACKAGE_DIR = Path(__file__).resolve().parent
#: last measured cold compile time, seconds (written after a cold compile)
_COMPILE_TIME_FILE = "fastring-compile-seconds"
#: what a cold compile took on the 2-core development machines
DEFAULT_COMPILE_S = 30


def user_cache_dir() -> Path:
    """``<user cache dir>/fastring/numba/<version>`` for this platform."""
    from .version import __version__
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "fastring" / "numba" / __version__


def setup() -> Path:
    """Point numba's cache at ``$NUMBA_CACHE_DIR`` or :func:`user_cache_dir`;
    returns that directory. Call before importing any kernel module."""
    path = os.environ.get(ENV) or os.fspath(user_cache_dir())
    os.environ[ENV] = path
    from numba.core import config
    config.CACHE_DIR = path
    return Path(path)


def package_cache_dir() -> Path:
    """The subdirectory holding the kernels compiled from this package's
    sources (numba's own naming, so the two never disagree)."""
    from numba.core import config
    from numba.core.caching import _CacheLocator
    sub = _CacheLocator.get_suitable_cache_subpath(os.fspath(PACKAGE_DIR / "engine.py"))
    return Path(config.CACHE_DIR or setup()) / sub


def all_cache_dirs() -> list[Path]:
    """The cache subdirectory of every source directory of the package
    (numba keeps one per directory: ``fastring/``, ``fastring/live/``, ...),
    so that dropping stale kernels reaches the subpackages' too."""
    from numba.core import config
    from numba.core.caching import _CacheLocator
    root = Path(config.CACHE_DIR or setup())
    dirs = sorted({src.parent for src in PACKAGE_DIR.rglob("*.py")})
    return [root / _CacheLocator.get_suitable_cache_subpath(os.fspath(d / "x.py"))
            for d in dirs]


def is_cold() -> bool:
    """True when the engine kernel has no valid compiled copy on disk, so the
    next run compiles (tens of seconds). False when it has one, when the JIT
    is off, or when numba's cache cannot be inspected."""
    from . import engine
    cache = getattr(engine.run_chunk, "_cache", None)
    try:
        return not cache._cache_file._load_index()
    except Exception:             # JIT off, or numba's internals changed
        return False


def expected_compile_s() -> int:
    """How long a cold compile is expected to take, seconds: the last one
    measured on this machine, else :data:`DEFAULT_COMPILE_S`."""
    try:
        return max(1, round(float((package_cache_dir() / _COMPILE_TIME_FILE)
                                  .read_text())))
    except (OSError, ValueError):
        return DEFAULT_COMPILE_S


def record_compile_s(seconds: float) -> None:
    """Remember a cold compile's duration for :func:`expected_compile_s`."""
    try:
        path = package_cache_dir() / _COMPILE_TIME_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{seconds:.1f}\n")
    except OSError:
        pass
