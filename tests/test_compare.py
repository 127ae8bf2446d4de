"""``fastring compare``: sides matched by strategy and swept values, changes,
config differences, seed-to-seed spread, output formats, bad input."""
import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import fastring
from fastring.cli import commands as cli
from fastring.report.compare import Cell, CompareError, beyond_spread, comparison, load_side

BASE = ["run.events=3000", 'run.strategies=["nofault", "copy_then_commit"]',
        "buffer.subbuf_size=4096"]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    out = {}
    for side, p_major in (("a", 1e-4), ("b", 3e-2)):
        for seed in (1, 2, 3):
            d = root / f"{side}{seed}"
            fastring.run(overrides=[*BASE, f"faults.p_major={p_major}",
                                    f"run.seed={seed}"]).write(d)
            out[f"{side}{seed}"] = d
    return out


def test_two_runs_values_and_changes(dirs, capsys):
    a, b = str(dirs["a1"]), str(dirs["b1"])
    data = comparison([load_side(a, "A"), load_side(b, "B")], ["pin_max_ns", "lost"])
    ra = {r["strategy"]: r for r in pq.read_table(dirs["a1"] / "runs.parquet").to_pylist()}
    rb = {r["strategy"]: r for r in pq.read_table(dirs["b1"] / "runs.parquet").to_pylist()}
    assert data["differences"] == [("faults.p_major", ["0.0001", "0.03"])]
    pins = [r for r in data["records"] if r["metric"] == "pin_max_ns"]
    assert [r["strategy"] for r in pins] == ["nofault", "copy_then_commit"]
    for r in pins:
        s = r["strategy"]
        assert r["baseline_value"] == ra[s]["pin_max_ns"] and r["value"] == rb[s]["pin_max_ns"]
        assert r["change"] == pytest.approx(rb[s]["pin_max_ns"] - ra[s]["pin_max_ns"])
        assert r["relative_change"] == pytest.approx(r["change"] / ra[s]["pin_max_ns"])
        assert r["beyond_seed_spread"] is None          # one seed a side
    assert cli.main(["compare", a, b]) == 0
    out = capsys.readouterr().out
    assert "faults.p_major: A 0.0001 | B 0.03" in out
    assert "pin max" in out and "tracer ns/event" in out and "beyond seeds" not in out


def test_seeds_and_spread(dirs, capsys):
    a = ",".join(str(dirs[f"a{i}"]) for i in (1, 2, 3))
    b = ",".join(str(dirs[f"b{i}"]) for i in (1, 2, 3))
    assert cli.main(["compare", a, b, "--metrics", "data_missing,pin_max_ns",
                     "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "run.seed" not in doc["config_differences"]   # the same seeds on both sides
    by = {(r["strategy"], r["metric"]): r for r in doc["rows"]}
    r = by[("copy_then_commit", "pin_max_ns")]
    assert r["baseline_seeds"] == r["seeds"] == 3
    runs = {k: pq.read_table(d / "runs.parquet").to_pylist() for k, d in dirs.items()}
    va = [next(x for x in runs[f"a{i}"] if x["strategy"] == "copy_then_commit")["pin_max_ns"]
          for i in (1, 2, 3)]
    vb = [next(x for x in runs[f"b{i}"] if x["strategy"] == "copy_then_commit")["pin_max_ns"]
          for i in (1, 2, 3)]
    assert r["baseline_value"] == pytest.approx(sum(va) / 3)
    assert r["beyond_seed_spread"] == (max(va) < min(vb) or max(vb) < min(va))
    assert by[("nofault", "data_missing")]["beyond_seed_spread"] is True  # 300x the fault rate


def test_beyond_spread():
    assert beyond_spread(Cell([1, 2, 3]), Cell([4, 5])) is True
    assert beyond_spread(Cell([1, 2, 4]), Cell([3, 5])) is False
    assert beyond_spread(Cell([1]), Cell([4, 5])) is None


@pytest.mark.parametrize("fmt", ["csv", "markdown"])
def test_formats(dirs, fmt, capsys):
    assert cli.main(["compare", str(dirs["a1"]), str(dirs["b1"]), str(dirs["b2"]),
                     "--metrics", "lost", "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert len(rows) == 2 * 2                     # 2 strategies x sides B, C
        assert {r["side"] for r in rows} == {"B", "C"}
    else:
        table = [line for line in out.splitlines() if line.startswith("|")]
        assert table[0].startswith("| strategy | metric | A | B | B - A change | B - A % | C |")
        assert len(table) == 2 + 2


def test_sweeps_match_by_swept_values(tmp_path, capsys):
    tables = []
    for p in (1e-4, 1e-2):
        tables.append(fastring.run(overrides=[*BASE, f"faults.p_major={p}"]).runs)
    a = tmp_path / "a"
    a.mkdir()
    pq.write_table(pa.concat_tables(tables), a / "runs.parquet")
    b = tmp_path / "b"
    b.mkdir()
    pq.write_table(pa.concat_tables(tables[::-1]), b / "runs.parquet")  # other order
    data = comparison([load_side(str(a), "A"), load_side(str(b), "B")], ["pin_max_ns"])
    assert data["axes"] == ["faults.p_major"]
    assert len(data["records"]) == 4
    assert all(r["change"] == 0 for r in data["records"])


def test_bad_input(dirs, tmp_path, capsys):
    a = str(dirs["a1"])
    for args, text in ((["compare", a], "needs two or more"),
                       (["compare", a, str(tmp_path / "nope")], "no such directory"),
                       (["compare", a, str(tmp_path)], "no runs.parquet"),
                       (["compare", a, a, "--metrics", "bogus"], "--metrics: unknown column 'bogus'"),
                       (["compare", a, a, "--format", "xml"], "'xml'")):
        assert cli.main(args) == 2, args
        cap = capsys.readouterr()
        assert cap.out == "" and text in cap.err, (args, cap.err)
    other = tmp_path / "other"
    fastring.run(overrides=["run.events=500", 'run.strategies=["percpu_retry"]']).write(other)
    with pytest.raises(CompareError, match="share no strategy"):
        comparison([load_side(a, "A"), load_side(str(other), "B")])
