"""Write-then-rename: every file fastring writes appears whole or not at all.

A file is written under a hidden temporary name beside its final one
(``.NAME.PID.HEX.tmp``: ignored by Parquet dataset readers, which skip dot
files) and renamed over the final name (``os.replace``, atomic on POSIX) only
when complete. Temporaries of killed processes are recognised by their PID
and removed by :func:`remove_stale_temps`. The one implementation: results,
sweeps, reports, fitted and calibrated profiles and tracer measurements all
write through here.
"""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Callable

#: the temporary names fastring writes (``.NAME.PID[.HEX].tmp``)
TEMP_NAME = re.compile(r"\..+\.(\d+)(\.[0-9a-f]+)?\.tmp")


def temp_name(final: Path) -> Path:
    """A hidden temporary name beside ``final``, unique to this process."""
    final = Path(final)
    return final.with_name(f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def write_via_temp(path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary name beside ``path``, then rename it
    to ``path``; on any error the temporary is removed and ``path`` untouched."""
    path = Path(path)
    tmp = temp_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_atomic(path, data: bytes | str, *, mkdir: bool = True) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` whole or not at all."""
    path = Path(path)
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return write_via_temp(path, lambda tmp: tmp.write_bytes(raw))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def remove_stale_temps(directory, recursive: bool = False) -> list[Path]:
    """Remove the temporary files that killed runs left in ``directory``
    (their process is gone); returns what was removed."""
    d = Path(directory)
    removed = []
    for path in (d.rglob(".*.tmp") if recursive else d.glob(".*.tmp")):
        m = TEMP_NAME.fullmatch(path.name)
        if m and path.is_file() and int(m.group(1)) != os.getpid() \
                and not _alive(int(m.group(1))):
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass
    return removed
