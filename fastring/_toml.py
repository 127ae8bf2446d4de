"""Writing TOML (the standard library only reads it): single values, inline
tables and flat documents, for the files fastring writes (cost profiles,
sweep grids) and for ``--set`` overrides built from values."""
from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key(k: str) -> str:
    return k if BARE_KEY.fullmatch(k) else string(k)


def string(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif o < 0x20 or o == 0x7F:
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch, f"\\u{o:04X}"))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def value(v) -> str:
    """One value as TOML text (inline tables and arrays; one line)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{key(str(k))} = {value(x)}"
                               for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {v!r} as TOML")


def document(doc: Mapping) -> str:
    """A nested dict as a TOML document: top-level tables as [sections]."""
    lines = [f"{key(k)} = {value(v)}" for k, v in doc.items()
             if not isinstance(v, Mapping)]
    for k, v in doc.items():
        if isinstance(v, Mapping):
            lines += ["", f"[{key(k)}]"]
            lines += [f"{key(str(kk))} = {value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines).lstrip("\n") + "\n"


def parse_value(text: str):
    """A TOML value, or the bare text if it is not one (``key=value`` overrides)."""
    try:
        doc = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return text
    return doc["v"] if set(doc) == {"v"} else text
