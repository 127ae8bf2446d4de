"""Compiler guards: check that the compiled kernels do what they measure."""
from __future__ import annotations

import platform
import re

from numba import njit, types

from . import kernels as K


class CalibrationError(RuntimeError):
    """A measurement could not be trusted (folded away, wrong count, ...)."""


_LOCKED = re.compile(r"\block\b\s*(x?add[bwlq]?|inc[bwlq]?|sub[bwlq]?|"
                     r"cmpxchg[bwlq]?|x?or[bwlq]?)\b")


def _asm(kernel) -> str:
    """Assembly of an uncached twin of ``kernel`` (numba does not keep the
    assembly of functions loaded from its cache)."""
    twin = njit(nogil=True)(kernel.py_func)
    nargs = kernel.py_func.__code__.co_argcount
    twin.compile((types.int64,) * nargs)
    return twin.inspect_asm(twin.signatures[0])


def check_atomic_asm() -> dict[str, str]:
    """Check the generated x86_64 code: the atomic kernels carry a ``lock``
    prefix, the local ones do not, and the memcpy kernels call ``memcpy``.

    Returns ``{kernel: what was found}``; raises :class:`CalibrationError` on
    any mismatch. Only meaningful on x86_64 (raises ``NotImplementedError``
    elsewhere).
    """
    if platform.machine().lower() not in ("x86_64", "amd64"):
        raise NotImplementedError(
            f"lock-prefix check is x86_64 only (this is {platform.machine()})")
    found = {}
    problems = []
    add_ops = ("add", "inc")      # an add of 1 is emitted as `lock inc`
    for name, kernel, want in (("atomic_add", K.k_atomic_add, add_ops),
                               ("atomic_add_contended", K.k_contend, add_ops),
                               ("atomic_cmpxchg", K.k_atomic_cas, ("cmpxchg",))):
        ops = [m.group(1) for m in _LOCKED.finditer(_asm(kernel))]
        hits = [op for op in ops if any(w in op for w in want)]
        want_op = "/".join(want)
        if not hits:
            problems.append(f"{name}: no 'lock {want_op}' in the generated "
                            f"code (locked ops found: {ops})")
        found[name] = f"lock {hits[0]}" if hits else "MISSING"
    for name, kernel in (("local_add", K.k_local_add),
                         ("local_cmpxchg", K.k_local_cas)):
        text = _asm(kernel)
        ops = [m.group(1) for m in _LOCKED.finditer(text)]
        if ops:
            problems.append(f"{name}: unexpected lock prefix ({ops})")
        if "cmpxchg" in text:
            problems.append(f"{name}: unexpected cmpxchg instruction")
        found[name] = "no lock" if not ops else f"lock {ops[0]}"
    for name, kernel in (("memcpy", K.k_memcpy_hot),
                         ("memcpy_cold", K.k_memcpy_cold)):
        ok = "memcpy" in _asm(kernel)
        if not ok:
            problems.append(f"{name}: the loop does not call memcpy")
        found[name] = "calls memcpy" if ok else "MISSING"
    if problems:
        raise CalibrationError("compiled kernels do not do what they measure: "
                               + "; ".join(problems))
    return found
