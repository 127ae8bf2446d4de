"""A config as the result tables carry it: one column per key
(:func:`flatten`) and the whole config as JSON in their metadata
(:func:`to_json`)."""
from __future__ import annotations

import json
from collections.abc import Mapping

from .schema import _OPTIONAL, SCHEMA


def flatten(cfg: Mapping) -> dict[str, object]:
    """``{"section.key": value}``, one entry per scalar leaf: the columns of the
    ``runs`` table. Lists and tables (``run.strategies``, ``workload.syscalls``,
    ``faults.inject``, the ``strategies`` section) become sorted-key JSON
    strings under their dotted key, so every column has one scalar type.
    Order: sections, then keys, as in :data:`DEFAULTS`; extra keys sorted."""
    def leaf(v):
        return json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else v

    out = {}
    for sec in [*SCHEMA, *sorted(set(cfg) - set(SCHEMA))]:
        if sec not in cfg:
            continue
        val = cfg[sec]
        if not isinstance(SCHEMA.get(sec), dict) or not isinstance(val, Mapping):
            out[sec] = leaf(val)
            continue
        known = [k for k, s in SCHEMA[sec].items()
                 if k in val and s.default is not _OPTIONAL]
        for k in [*known, *sorted(set(val) - set(known))]:
            out[f"{sec}.{k}"] = leaf(val[k])
    return out


def to_json(cfg: Mapping) -> str:
    """The config as sorted-key JSON: the schema metadata of every table."""
    return json.dumps(cfg, sort_keys=True)
