"""Results of a run: the ``runs``, ``buffers`` and ``events`` Arrow tables.

Every table carries schema metadata (``fastring.config`` as JSON, the
fastring, numba, numpy and pyarrow versions, the seed) so a file read back
months later still says exactly how it was made.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numba
import numpy as np
import pyarrow as pa

from . import __version__
from .config import to_json


def schema_metadata(cfg: dict) -> dict[bytes, bytes]:
    return {
        b"fastring.config": to_json(cfg).encode(),
        b"fastring.version": __version__.encode(),
        b"numba.version": numba.__version__.encode(),
        b"numpy.version": np.__version__.encode(),
        b"pyarrow.version": pa.__version__.encode(),
        b"fastring.seed": str(cfg["run"]["seed"]).encode(),
    }


def config_of(table: pa.Table) -> dict:
    """The config a result table was produced with (from its metadata)."""
    return json.loads(table.schema.metadata[b"fastring.config"])


@dataclass
class Results:
    """What :func:`fastring.run` returns."""
    config: dict
    runs: pa.Table
    buffers: pa.Table
    events: pa.Table | None = None

    def tables(self) -> dict[str, pa.Table]:
        out = {"runs": self.runs, "buffers": self.buffers}
        if self.events is not None:
            out["events"] = self.events
        return out
