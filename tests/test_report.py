"""Tests for fastring.report and ``fastring report``: tables, formats, plots."""
import re
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import fastring
from fastring.cli import commands as cli
from fastring import report
from fastring.io.results import run_to_dir

pytest.importorskip("matplotlib")

SMALL = ["run.events=2000", 'run.strategies=["nofault", "copy_then_commit"]',
         "buffer.subbuf_size=4096", "buffer.mode=overwrite"]
PNG = b"\x89PNG\r\n\x1a\n"
PLOTS = ("latency_cdf.png", "preempt_off_cdf.png", "pin_vs_loss.png")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    run_to_dir(d, overrides=SMALL, events=True)
    return d


@pytest.fixture(scope="module")
def sweep_runs():
    """Two runs that differ in faults.p_major, concatenated."""
    tables = [fastring.run(overrides=[*SMALL, f"faults.p_major={p}"]).runs
              for p in (1e-4, 0.05)]
    return pa.concat_tables(tables)


# ----------------------------------------------------------------- formats

@pytest.mark.parametrize("value,text", [
    (0, "0"), (7, "7"), (999, "999"), (1000, "1k"), (1234, "1.23k"),
    (12_345, "12.3k"), (999_499, "999k"), (999_500, "1M"), (3.4e6, "3.4M"),
    (2.5e9, "2.5G"), (float("nan"), "-"), (None, "-")])
def test_fmt_count(value, text):
    assert report.fmt_count(value) == text


@pytest.mark.parametrize("value,text", [
    (0, "0"), (48.2555, "48.3ns"), (850, "850ns"), (1724.4, "1.72µs"),
    (12_300, "12.3µs"), (999_600, "1ms"), (3.4e6, "3.4ms"),
    (2.5e9, "2.5s"), (float("nan"), "-")])
def test_fmt_ns(value, text):
    assert report.fmt_ns(value) == text
    assert report.fmt_ns(1724.4, "u") == "1.72us"


def test_comparison_table_text_and_markdown(run_dir):
    runs = pq.read_table(run_dir / "runs.parquet")
    text = report.comparison_table(runs, micro="u")
    lines = text.splitlines()
    assert len(lines) == 4
    assert "latency" in lines[0] and "pin" in lines[0]
    assert lines[1].split()[:2] == ["strategy", "ns/event"]
    assert lines[2].startswith("nofault") and lines[3].startswith("copy_then_commit")
    assert re.search(r"\d(ns|us|ms)\b", lines[2])   # time units
    assert "µ" not in text                               # micro="u"
    md = report.comparison_table(runs, markdown=True, columns=report.table.REPORT_COLUMNS)
    rows = md.splitlines()
    assert rows[0].startswith("| strategy | tracer ns/event | latency p50")
    assert re.search(r"\d\.\d\dx\b", rows[2])        # copy amplification
    assert rows[1].startswith("|:---|---:")
    assert len(rows) == 4 and all(r.count("|") == rows[0].count("|") for r in rows)
    row = runs.to_pylist()[0]
    copy_amp = row["copied_bytes"] / row["payload_bytes"]
    assert f"{copy_amp:.2f}x" in rows[2]


def test_varying_columns(sweep_runs, run_dir):
    assert report.varying_columns(pq.read_table(run_dir / "runs.parquet")) == []
    assert report.varying_columns(sweep_runs) == ["faults.p_major"]
    assert report.sweep_axes(sweep_runs) == ["faults.p_major"]


# ----------------------------------------------------------------- reports

def _check_pngs(d, names):
    for name in names:
        data = (d / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000, name


def test_report_from_events(run_dir, tmp_path, capsys):
    out = tmp_path / "rep"
    assert cli.main(["report", str(run_dir), "--out", str(out)]) == 0
    assert "summary.md" in capsys.readouterr().out
    _check_pngs(out, PLOTS)
    assert not list(out.glob("sweep_*.png"))
    md = (out / "summary.md").read_text(encoding="utf-8")
    for name in PLOTS:
        assert f"]({name})" in md
    assert "| strategy | tracer ns/event |" in md
    assert "exact, from the per-event table" in md
    assert "nofault" in md and "copy_then_commit" in md


def test_report_subprocess_without_events(tmp_path):
    d = tmp_path / "res"
    fastring.run(overrides=SMALL).write(d)
    p = subprocess.run([sys.executable, "-m", "fastring", "report", str(d)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    _check_pngs(d, PLOTS)
    md = (d / "summary.md").read_text(encoding="utf-8")
    assert "from each run's log-linear histogram" in md


def test_report_without_histograms_falls_back_to_percentiles(tmp_path):
    """Result files written before the runs table carried histograms (or
    trimmed by a user) still plot, from the percentiles."""
    import pyarrow.parquet as pq
    d = tmp_path / "res"
    fastring.run(overrides=SMALL).write(d)
    runs = pq.read_table(d / "runs.parquet")
    keep = [c for c in runs.column_names if "_hist_" not in c]
    pq.write_table(runs.select(keep), d / "runs.parquet")
    report.make_report(d)
    _check_pngs(d, PLOTS)
    assert "approximated from each run's p50" in (d / "summary.md").read_text()


def test_report_sweep_plain_file(sweep_runs, tmp_path):
    d = tmp_path / "sweep"
    d.mkdir()
    pq.write_table(sweep_runs, d / "runs.parquet")
    written = report.make_report(d)
    assert "sweep_faults.p_major.png" in written
    _check_pngs(d, [*PLOTS, "sweep_faults.p_major.png"])
    md = (d / "summary.md").read_text(encoding="utf-8")
    assert "](sweep_faults.p_major.png)" in md
    assert "Swept: `faults.p_major` = 0.0001, 0.05" in md
    assert "| strategy | faults.p_major | tracer ns/event |" in md


def test_report_sweep_hive_dataset(sweep_runs, tmp_path):
    d = tmp_path / "sweep"
    for s in ("nofault", "copy_then_commit"):
        part = d / "runs" / f"strategy={s}"
        part.mkdir(parents=True)
        rows = sweep_runs.filter(pa.compute.equal(sweep_runs["strategy"], s))
        for i in range(rows.num_rows):
            pq.write_table(rows.slice(i, 1).drop(["strategy"]),
                           part / f"cell-{i}.parquet")
    out = tmp_path / "out"
    assert cli.main(["report", str(d), "--out", str(out)]) == 0
    _check_pngs(out, [*PLOTS, "sweep_faults.p_major.png"])


def test_report_bad_input(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path / "nothing")]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "no runs.parquet" in capsys.readouterr().err


def test_report_without_matplotlib(run_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    out = tmp_path / "rep"
    assert cli.main(["report", str(run_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'fastring[plot]'" in err
    assert not out.exists()


# ------------------------------------------------------- readable plots (#12)

@pytest.mark.parametrize("value,text", [
    (1e-5, "0.001%"), (1.234e-6, "0.000123%"), (0.00012345, "0.0123%"),
    (0.5, "50%"), (0, "0"), (float("nan"), "-")])
def test_fmt_fraction_never_rounds_to_zero(value, text):
    assert report.fmt_fraction(value) == text


def _rows(runs):
    from fastring.report.runs import sorted_rows
    return sorted_rows(runs, report.varying_columns(runs))


def _figure():
    from fastring.report.style import figure_class
    return figure_class()


def test_histogram_cdfs_are_steps_and_identical_curves_say_so(run_dir):
    from fastring.report.dists import dist_figure
    rows = pq.read_table(run_dir / "runs.parquet").to_pylist()
    twin = {**rows[0], "strategy": "twin"}           # the same curve again
    rows = [rows[0], twin, rows[1]]
    colors = report.strategy_colors([r["strategy"] for r in rows])
    fig = dist_figure(_figure(), "t", "latency", rows, [], None, colors, "x")
    cdf = fig.axes[0]
    assert {line.get_drawstyle() for line in cdf.lines} == {"steps-post"}
    labels = cdf.get_legend_handles_labels()[1]
    assert labels == ["nofault", "twin (same as nofault)", "copy_then_commit"]
    styles = {(line.get_linestyle(), line.get_marker()) for line in cdf.lines}
    assert len(styles) == 3                          # each its own dashes and marker


def test_sweep_figures_colour_bar_and_all_zero_panels(sweep_runs):
    from fastring.report.dists import dist_figure
    from fastring.report.figures import sweep_figure
    rows = _rows(sweep_runs)
    colors = report.strategy_colors([r["strategy"] for r in rows])
    fig = dist_figure(_figure(), "t", "latency", rows, ["faults.p_major"], None,
                      colors, "x")
    bars = [ax for ax in fig.axes if ax.get_ylabel() == "faults.p_major"]
    assert len(bars) == 1                            # the colour bar, labelled
    zero = [{**r, "data_missing": 0} for r in rows]
    fig = sweep_figure(_figure(), zero, "faults.p_major", [], colors)
    panel = next(ax for ax in fig.axes if ax.get_title().startswith("data missing"))
    assert any("all zero" in t.get_text() for t in panel.texts)
    assert panel.get_yticks().size == 0             # no meaningless -4%..4% axis
    lost = next(ax for ax in fig.axes if ax.get_title().startswith("events lost"))
    assert not any("all zero" in t.get_text() for t in lost.texts) or \
        all(r["lost_full"] + r["lost_wrap"] + r["lost_big"] == 0 for r in rows)
    titles = [ax.get_title() for ax in fig.axes]
    assert "pin max (reserve to commit)" in titles and "pin p99 (reserve to commit)" in titles


def test_pin_vs_loss_uses_pin_max_and_counts_data_missing(run_dir):
    from fastring.report.figures import pin_loss_figure
    rows = pq.read_table(run_dir / "runs.parquet").to_pylist()
    rows[0] = {**rows[0], "data_missing": 7, "lost_full": 0, "lost_wrap": 0, "lost_big": 0}
    colors = report.strategy_colors([r["strategy"] for r in rows])
    ax = pin_loss_figure(_figure(), rows, [], colors).axes[0]
    points = {line.get_label(): (line.get_xdata()[0], line.get_ydata()[0])
              for line in ax.lines}
    assert points["nofault"] == (rows[0]["pin_max_ns"], 7 / rows[0]["events"])
    assert "pin max" in ax.get_xlabel() and "data_missing" in ax.get_ylabel()


def test_report_html_is_self_contained(run_dir, tmp_path):
    import base64
    import html
    out = tmp_path / "rep"
    written = report.make_report(run_dir, out)
    assert "report.html" in written
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page and "<script" not in page
    imgs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(imgs) == len(PLOTS)
    assert base64.b64decode(imgs[0]) == (out / "latency_cdf.png").read_bytes()
    assert "<th>ns/event</th>" in page and "Verdict" in page
    assert '\nsubbuf_size = 4096\n' in html.unescape(page)      # the config
    assert not list(out.glob(".*.tmp"))


def test_report_unwritable_out_exit_2(run_dir, capsys):
    assert cli.main(["report", str(run_dir), "--out", "/proc"]) == 2
    assert "cannot write there" in capsys.readouterr().err
