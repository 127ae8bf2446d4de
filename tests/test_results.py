"""Tests for fastring.results: Parquet files, atomic writes, metadata, reading."""
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import fastring
from fastring.io import results as R
from fastring.config import ConfigError

SMALL = ["run.events=2000", 'run.strategies=["nofault", "copy_then_commit"]']
META_KEYS = {b"fastring.config", b"fastring.version", b"numba.version",
             b"numpy.version", b"pyarrow.version", b"fastring.seed"}


@pytest.fixture(scope="module")
def small():
    """A small run with the in-memory events table."""
    return fastring.run(overrides=[*SMALL, "run.seed=5"], events_table=True)


def _listing(d):
    return sorted(os.listdir(d))


def test_round_trip_all_tables_and_metadata(small, tmp_path):
    out = tmp_path / "res"
    paths = small.write(out)
    assert set(paths) == {"runs", "buffers", "events"}
    assert _listing(out) == ["buffers.parquet", "events.parquet", "runs.parquet"]
    for name in ("runs", "buffers", "events"):
        meta = pq.read_schema(out / f"{name}.parquet").metadata
        assert META_KEYS <= set(meta)
        assert meta[b"fastring.seed"] == b"5"
        assert pq.ParquetFile(out / f"{name}.parquet").metadata.row_group(0) \
            .column(0).compression == "ZSTD"
    back = R.read(out)
    assert back.config == small.config
    for name, table in small.tables().items():
        got = getattr(back, name)
        assert got.equals(table), name
        assert got.schema.metadata == table.schema.metadata
        assert R.config_of(got) == small.config
    # the config read back runs the same
    again = fastring.run(back.config)
    assert again.runs.drop(["wall_s", "events_per_s"]).equals(
        small.runs.drop(["wall_s", "events_per_s"]))
    # events=False skips the per-event table
    assert R.read(out, events=False).events is None


def test_streamed_events_match_in_memory(small, tmp_path, monkeypatch):
    import fastring.api as api
    calls = []
    real = api.run

    def spy(*a, **kw):
        calls.append(kw)
        return real(*a, **kw)
    monkeypatch.setattr(api, "run", spy)
    out = tmp_path / "stream"
    res, paths = R.run_to_dir(out, overrides=[*SMALL, "run.seed=5",
                                              "run.chunk_events=500"],
                              events=True)
    # streamed: fastring.run never built the events table
    assert calls and calls[0].get("events_table", False) is False
    assert calls[0]["on_batch"] is not None
    assert res.events is None
    pf = pq.ParquetFile(paths["events"])
    assert pf.metadata.num_rows == 2 * 2000
    assert pf.metadata.num_row_groups >= 2 * 4       # one per batch
    assert META_KEYS <= set(pf.schema_arrow.metadata)
    ev = pq.read_table(paths["events"])
    for s in ("nofault", "copy_then_commit"):
        assert pa.compute.sum(pa.compute.equal(ev["strategy"], s)).as_py() == 2000
    assert ev.equals(small.events)
    cfg = R.config_of(ev)
    assert cfg["run"].pop("chunk_events") == 500
    want = json.loads(json.dumps(small.config))
    want["run"].pop("chunk_events")
    assert cfg == want
    back = R.read(out)
    volatile = ["wall_s", "events_per_s", "run.chunk_events"]
    assert back.runs.drop(volatile).equals(small.runs.drop(volatile))
    assert back.buffers.equals(small.buffers)


def test_bad_config_creates_nothing(tmp_path):
    out = tmp_path / "a" / "b"
    with pytest.raises(ConfigError, match="buffer.subbuf_size"):
        R.run_to_dir(out, overrides=[*SMALL, "buffer.subbuf_size=1000"])
    assert not (tmp_path / "a").exists()


class Boom(Exception):
    pass


def _boom_after_first(strategy, done, total):
    raise Boom


def test_failed_run_removes_the_directories_it_made(tmp_path):
    out = tmp_path / "new" / "dir"
    with pytest.raises(Boom):
        R.run_to_dir(out, overrides=[*SMALL, "run.chunk_events=500"],
                     events=True, progress=_boom_after_first)
    assert _listing(tmp_path) == []


def test_failed_run_keeps_previous_files(small, tmp_path):
    out = tmp_path / "res"
    small.write(out)
    before = {n: (out / n).read_bytes() for n in _listing(out)}
    with pytest.raises(Boom):
        R.run_to_dir(out, overrides=SMALL, events=True,
                     progress=_boom_after_first)
    assert {n: (out / n).read_bytes() for n in _listing(out)} == before


def test_interrupted_stream_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    seen = []

    def progress(strategy, done, total):
        seen.append(_listing(out))        # the temporary events file exists
        if len(seen) == 2:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        R.run_to_dir(out, overrides=[*SMALL, "run.chunk_events=500"],
                     events=True, progress=progress)
    assert any(n.startswith(".events.parquet") for n in seen[0])
    assert out.is_dir() and _listing(out) == []


def test_rewrite_without_events_drops_stale_events(small, tmp_path):
    out = tmp_path / "res"
    small.write(out)
    fastring.Results(small.config, small.runs, small.buffers).write(out)
    assert _listing(out) == ["buffers.parquet", "runs.parquet"]
    assert R.read(out).events is None


def test_zero_events_still_writes_an_events_file(tmp_path):
    res, paths = R.run_to_dir(tmp_path / "z", overrides=[
        "run.events=0", 'run.strategies=["nofault"]'], events=True)
    t = pq.read_table(paths["events"])
    assert t.num_rows == 0 and "latency_ns" in t.column_names
    assert META_KEYS <= set(t.schema.metadata)


def test_output_dir_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(R.OutputDirError, match="cannot create"):
        R.run_to_dir(f / "sub", overrides=SMALL)


def test_read_hive_partitioned_dataset(small, tmp_path):
    runs = small.runs
    for s in ("nofault", "copy_then_commit"):
        d = tmp_path / "runs" / f"strategy={s}"
        d.mkdir(parents=True)
        part = runs.filter(pa.compute.equal(runs["strategy"], s)).drop(["strategy"])
        pq.write_table(part, d / "cell-0.parquet")
    back = R.read(tmp_path)
    assert back.runs.column_names[0] == "strategy"
    assert back.runs.column("strategy").type == pa.string()
    assert sorted(back.runs["strategy"].to_pylist()) == ["copy_then_commit", "nofault"]
    assert back.config == small.config
    assert back.runs.num_rows == 2
    assert json.loads(back.runs.schema.metadata[b"fastring.config"]) == small.config


def test_read_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="runs"):
        R.read(tmp_path)


def test_run_to_dir_refuses_a_run_too_big_before_any_file(tmp_path, monkeypatch):
    """What ``fastring run`` relies on: the size check (``force``) before the
    directory is made, ``before_run`` once it is ready, ``jobs`` passed on."""
    from fastring.sim import estimate
    monkeypatch.setattr(estimate, "WORK_LIMIT_S", 1e-9)
    out = tmp_path / "new" / "out"
    with pytest.raises(ConfigError, match="--force"):
        R.run_to_dir(out, overrides=SMALL)
    assert not (tmp_path / "new").exists()
    seen = []
    res, paths = R.run_to_dir(out, overrides=SMALL, force=True, jobs=2,
                              before_run=lambda cfg: seen.append(
                                  (out.is_dir(), os.listdir(out), cfg["run"]["events"])))
    assert seen == [(True, [], 2000)]
    assert sorted(paths) == ["buffers", "runs"] and res.runs.num_rows == 2
