"""strace captures shipped with fastring, made with Debian's strace 6.1 of
real programs; every string anonymized (:mod:`fastring.data.anonymize`).

======== ===================================================================
``ls``     ``sh -c 'ls -la /usr/lib > /dev/null; cat /etc/os-release | wc -l'``
``python`` ``python3 -c 'import json, csv, email.parser, http.client'``
``tar``    ``tar czf OUT -C /usr/share/doc .`` (gzip as a child process)
======== ===================================================================

Each was recorded with ``strace -f -tt -T -s 64 -o FILE CMD`` and gzipped.
The default syscall mix (``workload.syscalls``) is ``fastring fit`` of
``python`` (fastring/data/default_mix.toml).
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
CAPTURES = ("ls", "python", "tar")
DEFAULT_MIX = HERE / "default_mix.toml"    # the default workload.syscalls


def capture_path(name: str) -> str:
    """The path of a shipped capture (``CAPTURES``)."""
    if name not in CAPTURES:
        raise ValueError(f"no shipped capture {name!r}; there are {', '.join(CAPTURES)}")
    return str(HERE / f"{name}.strace.gz")
