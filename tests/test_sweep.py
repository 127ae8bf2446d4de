"""Tests for fastring.sweep: grids, seeds, local processes, Dask, resume,
failures (cells are tiny: 2000 events, two strategies)."""
import hashlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pyarrow as pa
import pytest

import fastring
from fastring import _toml
from fastring import sweep as SW
from fastring.cli import commands as cli
from fastring.io.progress import CellProgress

ROOT = Path(__file__).resolve().parent.parent


def sweep_cli(argv):
    """``fastring sweep ARGV...``: its exit status."""
    return cli.main(["sweep", *argv])

GRID = """\
# a tiny 2x2 grid
[run]
events = 2000
strategies = ["nofault", "copy_then_commit"]

[buffer]
subbuf_size = 4096

[axes]
"faults.p_major" = [1e-4, 1e-2]
"buffer.mode" = ["discard", "overwrite"]
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def rows(table: pa.Table) -> list[str]:
    """The table without its host-dependent columns, as sorted canonical rows
    (JSON, so that NaN equals NaN)."""
    keep = [c for c in table.column_names if c not in SW.HOST_COLUMNS]
    return sorted(json.dumps(r, sort_keys=True) for r in table.select(keep).to_pylist())


def manifest(out: Path) -> dict:
    return json.loads((out / SW.MANIFEST_FILE).read_text())


def files(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns
            for p in (out / SW.RUNS_DIR).rglob("*.parquet")}


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory):
    return write(tmp_path_factory.mktemp("grid") / "grid.toml", GRID)


@pytest.fixture(scope="module")
def local(grid_file, tmp_path_factory):
    """The 2x2 grid on two local worker processes."""
    out = tmp_path_factory.mktemp("local") / "sweep"
    table = SW.sweep(grid_file, out, workers=2, progress=False)
    return out, table


# ------------------------------------------------------------------ running

def test_local_grid(local, grid_file):
    out, table = local
    grid = SW.load_grid(grid_file)
    assert table.num_rows == 4 * 2
    assert table.column_names[:3] == ["strategy", "cell", "run.seed"]
    runs_cols = fastring.run(overrides=["run.events=0", "run.strategies=[\"nofault\"]"]
                             ).runs.column_names
    assert table.column_names == ["strategy", "cell", *runs_cols[1:]]
    # grid order: cells in index order, strategies in run.strategies order
    assert table["cell"].to_pylist() == [c.id for c in grid.cells for _ in range(2)]
    assert table["strategy"].to_pylist() == ["nofault", "copy_then_commit"] * 4
    got = {(r["faults.p_major"], r["buffer.mode"]) for r in table.to_pylist()}
    assert got == {(p, m) for p in (1e-4, 1e-2) for m in ("discard", "overwrite")}
    assert set(table["events"].to_pylist()) == {2000}
    # each cell runs with its own derived seed
    for cell in grid.cells:
        seeds = set(table.filter(pa.compute.equal(table["cell"], cell.id))
                    ["run.seed"].to_pylist())
        assert seeds == {SW.cell_seed(1, cell.params)}
    assert len({c.seed for c in grid.cells}) == 4
    # the layout: one hive-partitioned dataset, one file per cell and strategy
    assert sorted(files(out)) == sorted(
        f"runs/strategy={s}/cell-{c.id}.parquet"
        for c in grid.cells for s in ("nofault", "copy_then_commit"))
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]   # no temp files
    assert (out / SW.GRID_FILE).read_text() == GRID
    assert json.loads((out / SW.FAILURES_FILE).read_text()) == []
    m = manifest(out)
    assert m["grid_sha256"] == grid.sha256
    assert [c["status"] for c in m["cells"]] == ["done"] * 4
    assert [c["runs"] for c in m["cells"]] == [1] * 4
    # the workers ran with one Numba thread each
    assert {c["worker"]["numba_threads"] for c in m["cells"]} == {1}
    assert m["sweeps"][-1]["mode"] == "processes"
    assert sorted(m["sweeps"][-1]["computed"]) == sorted(c.id for c in grid.cells)
    # reading the dataset back gives the same rows
    assert rows(SW.read(out)) == rows(table)
    assert table.schema.metadata[b"fastring.sweep.grid_sha256"] == grid.sha256.encode()


def test_a_cell_is_the_same_run_in_any_process(local, grid_file):
    out, table = local
    cell = SW.load_grid(grid_file).cells[3]
    direct = fastring.run(cell.config).runs
    direct = direct.add_column(1, "cell", pa.array([cell.id] * direct.num_rows))
    mine = table.filter(pa.compute.equal(table["cell"], cell.id))
    assert rows(mine) == rows(direct)


def test_dask_local_cluster_gives_the_same_table(local, grid_file, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "dask"
    table = SW.sweep(grid_file, out, scheduler="local", workers=2, progress=False)
    assert rows(table) == rows(local[1])
    m = manifest(out)
    assert m["sweeps"][-1]["mode"] == "dask-local"
    assert {c["worker"]["numba_threads"] for c in m["cells"]} == {1}


# ------------------------------------------------------------------- resume

def test_resume_recomputes_only_the_missing_cell(grid_file, tmp_path):
    out = tmp_path / "sweep"
    first = SW.sweep(grid_file, out, workers=1, progress=False)
    before = files(out)
    grid = SW.load_grid(grid_file)
    victim = grid.cells[2]
    (out / f"runs/strategy=copy_then_commit/cell-{victim.id}.parquet").unlink()

    assert sweep_cli([str(grid_file), "--out", str(out), "--workers", "1"]) == 0
    after = files(out)
    assert sorted(after) == sorted(before)
    for name, mtime in after.items():
        assert (mtime == before[name]) == (victim.id not in name), name
    m = manifest(out)
    assert m["sweeps"][-1]["computed"] == [victim.id]
    assert sorted(m["sweeps"][-1]["skipped"]) == sorted(
        c.id for c in grid.cells if c is not victim)
    assert {c["id"]: c["runs"] for c in m["cells"]} == {
        c.id: 2 if c is victim else 1 for c in grid.cells}
    assert rows(SW.read(out)) == rows(first)


def test_interrupted_sweep_resumes(grid_file, tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    write_cell, calls = SW._write_cell, []

    def interrupting(*args):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(args[1].id)
        write_cell(*args)

    monkeypatch.setattr(SW.output, "_write_cell", interrupting)
    with pytest.raises(KeyboardInterrupt):
        SW.sweep(grid_file, out, workers=1, progress=False)
    m = manifest(out)
    assert m["sweeps"][-1]["status"] == "interrupted"
    assert m["sweeps"][-1]["computed"] == calls
    monkeypatch.setattr(SW.output, "_write_cell", write_cell)

    table = SW.sweep(grid_file, out, workers=1, progress=False)
    m = manifest(out)
    assert m["sweeps"][-1]["status"] == "complete"
    assert sorted(m["sweeps"][-1]["skipped"]) == sorted(calls)
    assert len(m["sweeps"][-1]["computed"]) == 2
    assert not set(m["sweeps"][-1]["computed"]) & set(calls)
    assert [c["runs"] for c in m["cells"]] == [1] * 4
    assert table.num_rows == 8


def test_a_different_grid_needs_force(grid_file, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert sweep_cli([str(grid_file), "--out", str(out), "--workers", "1"]) == 0
    # the same grid, reformatted and with its axes in another order: resumes
    same = write(tmp_path / "same.toml", (
        '[axes]\n"buffer.mode" = ["discard", "overwrite"]\n'
        '"faults.p_major" = [1e-4, 1e-2]  # comment\n'
        '[run]\nstrategies = ["nofault", "copy_then_commit"]\nevents = 2000\n'
        '[buffer]\nsubbuf_size = 4096\n'))
    before = (out / "manifest.json").read_bytes()
    assert sweep_cli([str(same), "--out", str(out), "--workers", "1"]) == 0
    assert (out / "manifest.json").read_bytes() == before   # nothing to do: untouched
    # another grid
    other = write(tmp_path / "other.toml", GRID.replace("1e-2]", "1e-3]"))
    capsys.readouterr()
    assert sweep_cli([str(other), "--out", str(out), "--workers", "1"]) == 2
    assert "different grid" in capsys.readouterr().err
    assert len(files(out)) == 8
    assert sweep_cli([str(other), "--out", str(out), "--workers", "1", "--force"]) == 0
    assert len(files(out)) == 8
    assert {r["faults.p_major"] for r in SW.read(out).to_pylist()} == {1e-4, 1e-3}
    assert len(manifest(out)["sweeps"]) == 1


# ----------------------------------------------------------------- failures

def test_an_invalid_value_fails_its_cell_alone(tmp_path, capsys):
    grid = write(tmp_path / "g.toml", GRID.replace("[1e-4, 1e-2]", "[1e-4, 2.0]"))
    out = tmp_path / "sweep"
    assert sweep_cli([str(grid), "--out", str(out), "--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert "FAILED cell" in err and "faults.p_major=2.0" in err
    assert "faults.p_major: must be a number in [0, 1], got 2.0" in err
    failures = json.loads((out / SW.FAILURES_FILE).read_text())
    assert [f["params"]["faults.p_major"] for f in failures] == [2.0, 2.0]
    assert {f["stage"] for f in failures} == {"validate"}
    assert all("faults.p_major" in f["error"] for f in failures)
    assert all(f["config"]["faults"]["p_major"] == 2.0 for f in failures)
    table = SW.read(out)
    assert table.num_rows == 4
    assert set(table["faults.p_major"].to_pylist()) == {1e-4}
    statuses = [c["status"] for c in manifest(out)["cells"]]
    assert statuses == ["done", "done", "invalid", "invalid"]
    # the API: the table of the cells that ran, and a warning
    with pytest.warns(RuntimeWarning, match="2 of 4 cells failed"):
        assert SW.sweep(grid, out, workers=1, progress=False).num_rows == 4


def test_a_cell_that_raises_fails_alone_and_is_retried(grid_file, tmp_path,
                                                       monkeypatch, capsys):
    real = fastring.api.run

    def flaky(cfg, **kw):
        if cfg["faults"]["p_major"] == 1e-2 and cfg["buffer"]["mode"] == "overwrite":
            raise RuntimeError("simulated engine crash")
        return real(cfg, **kw)

    out = tmp_path / "sweep"
    monkeypatch.setattr(fastring.api, "run", flaky)
    assert sweep_cli([str(grid_file), "--out", str(out), "--workers", "1"]) == 1
    assert "RuntimeError: simulated engine crash" in capsys.readouterr().err
    (failure,) = json.loads((out / SW.FAILURES_FILE).read_text())
    assert failure["stage"] == "run"
    assert failure["params"] == {"faults.p_major": 1e-2, "buffer.mode": "overwrite"}
    assert failure["config"]["buffer"]["mode"] == "overwrite"
    assert "simulated engine crash" in failure["traceback"]
    assert len(files(out)) == 6
    monkeypatch.setattr(fastring.api, "run", real)
    assert sweep_cli([str(grid_file), "--out", str(out), "--workers", "1"]) == 0
    assert manifest(out)["sweeps"][-1]["computed"] == [failure["cell"]]
    assert json.loads((out / SW.FAILURES_FILE).read_text()) == []


@pytest.mark.parametrize("axes, message", [
    ('"faults.p_majr" = [1e-4]', "unknown key faults.p_majr"),
    ('"fautls.p_major" = [1e-4]', "unknown section 'fautls'"),
    ('"faults.p_major.x" = [1e-4]', "faults.p_major is not a table"),
    ('"workload.syscalls.openat.wieght" = [1.0]', "unknown key workload.syscalls.openat.wieght"),
    ('"faults.p_major" = []', "non-empty list"),
    ('"faults.p_major" = 1e-4', "non-empty list"),
    ('"faults.p_major" = [1e-4, 1e-4]', "duplicate value"),
    ('"faults" = [{p_major = 0.1}]\n"faults.p_minor" = [0.1]', "overlaps"),
    ('"faults.p_major" = [2.0, 3.0]', "no cell is valid"),
    ('', "[axes]"),
])
def test_a_bad_grid_is_rejected_up_front(tmp_path, capsys, axes, message):
    text = GRID.split("[axes]")[0] + (f"[axes]\n{axes}\n" if axes else "")
    grid = write(tmp_path / "g.toml", text)
    out = tmp_path / "sweep"
    assert sweep_cli([str(grid), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SW.GridError, match="."):
        SW.load_grid(grid)


def test_bad_options(grid_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "sweep"
    assert sweep_cli([str(grid_file), "--out", str(out), "--scheduler", "nowhere"]) == 2
    assert "tcp://HOST:PORT" in capsys.readouterr().err
    assert sweep_cli([str(grid_file), "--out", str(out), "--workers", "0"]) == 2
    assert sweep_cli([str(tmp_path / "missing.toml"), "--out", str(out)]) == 2
    assert "cannot read" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "distributed", None)    # not installed
    assert sweep_cli([str(grid_file), "--out", str(out), "--scheduler", "local"]) == 2
    assert "pip install 'fastring[dask]'" in capsys.readouterr().err
    assert not out.exists()


# -------------------------------------------------------------- seeds, grid

def test_cell_seeds_and_ids_are_stable():
    params = {"faults.p_major": 1e-4, "buffer.mode": "discard"}
    swapped = {"buffer.mode": "discard", "faults.p_major": 1e-4}
    assert SW.cell_seed(1, params) == SW.cell_seed(1, swapped) == 7188302913722660576
    assert SW.cell_id(params) == SW.cell_id(swapped) == "5a120489976d"
    assert SW.cell_seed(2, params) != SW.cell_seed(1, params)
    assert SW.cell_seed(1, {**params, "faults.p_major": 1e-3}) != SW.cell_seed(1, params)
    assert 0 <= SW.cell_seed(1, params) < 2**63
    # the documented recipe: SHA-256 of the canonical JSON of base seed + params
    blob = json.dumps({"base_seed": 1, "params": sorted(params.items())},
                      sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(b"fastring.sweep.seed\0" + blob.encode()).digest()
    assert SW.cell_seed(1, params) == int.from_bytes(digest[:8], "big") & (2**63 - 1)
    # the same in another interpreter, whatever its hash salt
    code = ("from fastring.sweep import cell_seed, cell_id; "
            "p = {'faults.p_major': 1e-4, 'buffer.mode': 'discard'}; "
            "print(cell_seed(1, p), cell_id(p))")
    for salt in ("0", "12345"):
        got = subprocess.run([sys.executable, "-c", code], capture_output=True,
                             text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": salt}).stdout.split()
        assert got == ["7188302913722660576", "5a120489976d"]


def test_cell_configs_are_run_with_overrides(grid_file):
    grid = SW.load_grid(grid_file)
    assert [c.params for c in grid.cells] == [
        {"faults.p_major": p, "buffer.mode": m}
        for p in (1e-4, 1e-2) for m in ("discard", "overwrite")]
    for c in grid.cells:
        want = fastring.load({"run": {"events": 2000, "seed": c.seed,
                                      "strategies": ["nofault", "copy_then_commit"]},
                              "buffer": {"subbuf_size": 4096,
                                         "mode": c.params["buffer.mode"]},
                              "faults": {"p_major": c.params["faults.p_major"]}})
        assert c.config == want


def test_axes_inside_tables_and_whole_sections():
    grid = SW.load_grid({
        "run": {"events": 100},
        "axes": {"workload.syscalls.openat.weight": [0.5, 2],
                 "buffer": [{"mode": "overwrite"}, {"n_subbuf": 8}]}})
    assert len(grid.valid_cells) == 4
    c = grid.cells[1]
    assert c.config["workload"]["syscalls"]["openat"]["weight"] == 0.5
    assert set(c.config["workload"]["syscalls"]) == set(
        fastring.config.DEFAULTS["workload"]["syscalls"])
    assert c.config["buffer"]["n_subbuf"] == 8            # merged into [buffer]
    assert c.config["buffer"]["subbuf_size"] == 1 << 20   # the default preset's


def test_a_dict_grid_is_kept_as_toml(tmp_path):
    doc = {"run": {"events": 500, "strategies": ["nofault"]},
           "workload": {"syscalls": {"read": {"weight": 1, "payload": "buffer"}}},
           "axes": {"faults.p_major": [0.0, 1e-3], "buffer.mode": ["discard"]}}
    out = tmp_path / "sweep"
    table = SW.sweep(doc, out, workers=1, progress=False)
    assert table.num_rows == 2
    assert SW.load_grid(out / SW.GRID_FILE).sha256 == SW.load_grid(doc).sha256


@pytest.mark.parametrize("value", [
    0, -3, 2**62, 1.0, 1e-5, 2.5e300, -0.0, float("inf"), True, "", "a\"b\\c\n\t\x7f é",
    [1, "x", [2.5]], {"a": 1, "b c": {"d": [True]}}, []])
def test_toml_values_round_trip(value):
    assert tomllib.loads(f"v = {_toml.value(value)}")["v"] == value


def test_progress_bar_draws_only_on_a_terminal():
    class Tty(list):
        def isatty(self):
            return True

        def write(self, s):
            self.append(s)

        def flush(self):
            pass

    tty = Tty()
    bar = CellProgress(4, 1, True, stream=tty)
    bar.update(True)
    bar.update(False)
    bar.close()
    text = "".join(tty)
    assert "resuming: 1 cells done before, 4 to run" in text
    assert "2/4 cells (1 failed) |" in text and "left" in text
    assert text.endswith("\n")
    quiet = Tty()
    quiet.isatty = lambda: False
    bar = CellProgress(4, 0, True, stream=quiet)
    bar.update(True)
    bar.close()
    assert quiet == []


@pytest.mark.parametrize("cols", range(4, 100, 3))
def test_progress_line_fits_and_never_cuts_a_number(cols):
    bar = CellProgress(1000, 0, False)
    bar.done, bar.failed, bar.t0 = 123, 4, 0.0
    full, line = (bar.fit(bar.forms(3725.0, c), c) for c in (1000, cols))
    assert full == ("sweep [##..................]  12% 123/1000 cells (4 failed) "
                    "| 1h02m elapsed, ~7h22m left")
    assert len(line) <= max(cols - 1, 4) and "%" in line
    assert set(line.split()) <= set(full.split())


def test_the_example_grid_is_valid():
    grid = SW.load_grid(ROOT / "examples" / "fault_rate_grid.toml")
    assert grid.invalid_cells == []
    p = grid.axes["faults.p_major"]
    assert max(p) / min(p) >= 1e4
    assert set(grid.cells[0].strategies) == set(fastring.config.BUILTIN_STRATEGIES)
    # a few minutes on 2 cores at ~1.5 M events/s per core and strategy
    assert len(grid.cells) * grid.cells[0].config["run"]["events"] <= 5e7
