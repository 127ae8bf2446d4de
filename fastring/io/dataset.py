"""Reading a hive-partitioned Parquet dataset (``runs/strategy=NAME/*.parquet``,
what a sweep writes) as one table: the one reader behind
:func:`fastring.results.read` and :func:`fastring.sweep.read`.

The partition keys of a file are the ``key=value`` names of the directories
above it; they become string columns placed first. The files' own columns
follow, their schemas unified (a column a file lacks is null in its rows, an
int column that is float elsewhere is promoted). Rows keep the order of the
files: sorted by path when a directory is listed, as ``pyarrow.dataset``
does, or the caller's order (a sweep's grid order).
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq

#: one file of a dataset and its partition keys (``{"strategy": NAME}``)
Part = tuple[Path, dict[str, str]]


def _hidden(name: str) -> bool:
    """Skipped like ``pyarrow.dataset`` does: temporaries (``.NAME.tmp``,
    see :mod:`.atomic`) and ``_SUCCESS``-style markers."""
    return name.startswith((".", "_"))


def list_parts(directory) -> list[Part]:
    """Every file below ``directory`` (hidden names skipped), sorted by path,
    with the hive partition keys of the directories between."""
    root = Path(directory)
    parts = []
    for path in sorted((p for p in root.rglob("*") if p.is_file()), key=str):
        rel = path.relative_to(root).parts
        if any(_hidden(n) for n in rel):
            continue
        keys = dict(n.split("=", 1) for n in rel[:-1] if "=" in n)
        parts.append((path, {k: unquote(v) for k, v in keys.items()}))
    return parts


def read_parts(parts: Iterable[Part], *, metadata: dict | None = None) -> pa.Table:
    """The files as one table, partition keys first (see the module
    docstring); the schema metadata is ``metadata``, or the first file's when
    None. Raises ValueError when there is no file."""
    tables = []
    for path, keys in parts:
        t = pq.read_table(path)
        for i, (key, value) in enumerate(keys.items()):
            t = t.add_column(i, key, pa.array([value] * t.num_rows, pa.string()))
        tables.append(t)
    if not tables:
        raise ValueError("no Parquet files to read")
    first = tables[0].schema.metadata
    table = pa.concat_tables([t.replace_schema_metadata(None) for t in tables],
                             promote_options="permissive")
    return table.replace_schema_metadata(first if metadata is None else metadata)


def read_dataset(directory) -> pa.Table:
    """Every file below ``directory``, as :func:`read_parts` reads them."""
    parts = list_parts(directory)
    if not parts:
        raise FileNotFoundError(f"{directory}: no Parquet files")
    return read_parts(parts)
