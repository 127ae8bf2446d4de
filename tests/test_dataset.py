"""The one partitioned-Parquet reader (fastring.io.dataset) behind
fastring.results.read and fastring.sweep.read."""
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from fastring.io.dataset import list_parts, read_dataset, read_parts


def _write(path, table):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "runs"
    meta = {b"who": b"first"}
    _write(root / "strategy=b" / "cell-2.parquet",
           pa.table({"cell": ["2"], "x": [1]}).replace_schema_metadata(meta))
    _write(root / "strategy=a" / "cell-1.parquet",
           pa.table({"cell": ["1", "1"], "x": [2, 3], "y": [0.5, 1.5]}))
    _write(root / "strategy=b" / "cell-1.parquet",
           pa.table({"cell": ["1"], "x": [4.5]}))
    _write(root / "strategy=a" / ".cell-9.parquet.123.tmp",    # a temporary
           pa.table({"cell": ["9"], "x": [9]}))
    return root


def test_list_parts_sorted_hidden_skipped(dataset):
    parts = list_parts(dataset)
    assert [(p.parent.name, p.name, k) for p, k in parts] == [
        ("strategy=a", "cell-1.parquet", {"strategy": "a"}),
        ("strategy=b", "cell-1.parquet", {"strategy": "b"}),
        ("strategy=b", "cell-2.parquet", {"strategy": "b"})]


def test_read_dataset_is_what_pyarrow_reads(dataset):
    t = read_dataset(dataset)
    assert t.column_names == ["strategy", "cell", "x", "y"]
    assert t.schema.field("strategy").type == pa.string()
    assert t.schema.field("x").type == pa.float64()      # int promoted
    assert t.to_pylist() == [
        {"strategy": "a", "cell": "1", "x": 2.0, "y": 0.5},
        {"strategy": "a", "cell": "1", "x": 3.0, "y": 1.5},
        {"strategy": "b", "cell": "1", "x": 4.5, "y": None},
        {"strategy": "b", "cell": "2", "x": 1.0, "y": None}]
    # the same rows and order as pyarrow's own dataset discovery
    ref = ds.dataset(dataset, format="parquet", partitioning="hive").to_table(
        columns=["strategy", "cell"])
    assert ref.to_pylist() == t.select(["strategy", "cell"]).to_pylist()


def test_read_parts_keeps_order_and_metadata(dataset):
    parts = [(dataset / "strategy=b" / "cell-2.parquet", {"strategy": "b"}),
             (dataset / "strategy=a" / "cell-1.parquet", {"strategy": "a"})]
    t = read_parts(parts)
    assert t.column("strategy").to_pylist() == ["b", "a", "a"]
    assert t.schema.metadata == {b"who": b"first"}          # the first file's
    assert read_parts(parts, metadata={b"k": b"v"}).schema.metadata == {b"k": b"v"}


def test_empty(tmp_path):
    (tmp_path / "runs").mkdir()
    with pytest.raises(FileNotFoundError, match="no Parquet files"):
        read_dataset(tmp_path / "runs")
    with pytest.raises(ValueError, match="no Parquet files"):
        read_parts([])


def test_sweep_read_without_its_grid_copy(dataset):
    """sweep.read falls back to the dataset in path order, without metadata;
    no file at all is an empty table, not an error."""
    from fastring.sweep import read
    t = read(dataset.parent)
    assert t.schema.metadata is None
    assert t.to_pylist() == read_dataset(dataset).to_pylist()
    empty = dataset.parent / "empty"
    (empty / "runs").mkdir(parents=True)
    t = read(empty)
    assert t.num_rows == 0 and t.column_names == ["strategy", "cell"]
