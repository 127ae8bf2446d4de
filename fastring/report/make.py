"""``fastring report``: read a results directory, write the plots,
``summary.md`` and ``report.html``."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa

from ..io.atomic import write_atomic, write_via_temp
from ..io.results import OutputDirError, check_writable, read_table, table_path
from .dists import dist_figure, exact_dists
from .figures import pin_loss_figure, sweep_figure
from .html import report_html
from .runs import is_num, sorted_rows, sweep_axes, varying_columns
from .style import figure_class, strategy_colors
from .table import REPORT_COLUMNS, _param_text, columns_for, legend, render
from .verdict import verdict_lines

def make_report(results_dir, out_dir=None) -> dict[str, Path]:
    """Write the plots, ``summary.md`` and ``report.html`` of a results
    directory into ``out_dir`` (default: the results directory); returns
    name -> path. Every file is written under a temporary name and renamed.

    Raises FileNotFoundError when there is no ``runs`` table, and
    :class:`MissingExtra` when matplotlib is missing, or
    :class:`OutputDirError` when ``out_dir`` cannot be written (all before
    writing anything).
    """
    src = Path(results_dir)
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: no such directory")
    if table_path(src, "runs") is None:
        raise FileNotFoundError(f"{src}: no runs.parquet nor runs/ dataset "
                                f"(is this a fastring results directory?)")
    Figure = figure_class()
    runs = read_table(src, "runs")
    if "strategy" not in runs.column_names:
        raise FileNotFoundError(f"{src}: the runs table has no 'strategy' column")
    params = varying_columns(runs)
    axes = sweep_axes(runs)
    rows = sorted_rows(runs, params)
    names = list(dict.fromkeys(r["strategy"] for r in rows))
    colors = strategy_colors(names)
    multi = len(rows) > len(names)
    events_path = src / "events.parquet"
    use_events = events_path.is_file() and not multi

    out = Path(out_dir) if out_dir is not None else src
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputDirError(f"output directory {os.fspath(out)!r}: cannot "
                             f"create it: {exc.strerror or exc}") from exc
    check_writable(out)
    written: dict[str, Path] = {}

    def save(name, fig):
        path = out / name
        write_via_temp(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
        written[name] = path

    how = ("from events.parquet" if use_events else
           "from each run's histogram" if "latency_hist_ns" in runs.column_names
           else "approximate: from each run's p50 / p99 / p99.9 / max")
    for fname, metric, col, title, xlabel in (
            ("latency_cdf.png", "latency", "latency_ns",
             "Latency added to the syscall", "latency added to the syscall"),
            ("preempt_off_cdf.png", "preempt_off", "preempt_off_ns",
             "Preemption-off time per event", "preempt-off time (ns)")):
        exact = exact_dists(events_path, col) if use_events else None
        save(fname, dist_figure(Figure, f"{title} ({how})", metric, rows,
                                params, exact, colors, xlabel))
    save("pin_vs_loss.png", pin_loss_figure(Figure, rows, params, colors))
    for a in axes:
        others = [p for p in params if p != a]
        save(f"sweep_{a}.png", sweep_figure(Figure, rows, a, others, colors))

    intro = _intro(src, runs, rows, params)
    sections = [s for s in _sections(runs, axes, use_events) if s[1] in written]
    for name, text in (("summary.md", _summary(intro, rows, params, sections)),
                       ("report.html", report_html(intro, rows, params, sections,
                                                   written, runs))):
        path = out / name
        write_atomic(path, text, mkdir=False)
        written[name] = path
    return written


def _intro(src: Path, runs: pa.Table, rows, params) -> list[str]:
    """The report's opening paragraphs (Markdown: `code` only)."""
    meta = runs.schema.metadata or {}
    get = lambda k: meta.get(k, b"?").decode()                # noqa: E731
    r0 = rows[0] if rows else {}

    def cfg(key):
        if key in params:
            return "swept"
        distinct = {json.dumps(r.get(key), sort_keys=True) for r in rows}
        return _param_text(r0.get(key)) if len(distinct) <= 1 else "varies"

    names = list(dict.fromkeys(r["strategy"] for r in rows))
    out = [f"Results: `{src}` — {len(rows)} run(s) of {len(names)} "
           f"strateg{'y' if len(names) == 1 else 'ies'} "
           f"({', '.join(names)}); fastring {get(b'fastring.version')}, "
           f"seed {cfg('run.seed')}"
           + (" (one per sweep cell)" if cfg('run.seed') == "varies" else "") + ".",
           f"Setup: {cfg('run.events')} events, {cfg('machine.n_cpus')} CPUs × "
           f"{cfg('machine.tasks_per_cpu')} tasks, buffer {cfg('buffer.n_subbuf')} × "
           f"{cfg('buffer.subbuf_size')} B, mode {cfg('buffer.mode')}; faults "
           f"{cfg('faults.model')} (p_minor {cfg('faults.p_minor')}, p_major "
           f"{cfg('faults.p_major')}), costs profile {cfg('costs.profile')}."]
    if params:
        out.append("Swept: " + "; ".join(
            f"`{p}` = " + ", ".join(_param_text(v) for v in sorted(
                set(runs.column(p).to_pylist()),
                key=lambda v: (not is_num(v), v if is_num(v) else str(v))))
            for p in params) + ".")
    return out


def _sections(runs: pa.Table, axes, use_events: bool) -> list[tuple[str, str, str]]:
    """(title, plot file, what it shows) of each plot section."""
    note = ("exact, from the per-event table" if use_events else
            "from each run's log-linear histogram (bins under 0.8% wide)"
            if "latency_hist_ns" in runs.column_names else
            "approximated from each run's p50, p99, p99.9 and max "
            "(run with `--events-table` for exact curves)")
    out = [
        ("Latency", "latency_cdf.png",
         f"Latency the probe adds to each syscall, {note}."),
        ("Preemption off", "preempt_off_cdf.png",
         f"Time spent with preemption off per event, {note}."),
        ("Pinned time vs loss", "pin_vs_loss.png",
         "Each run's longest reserve-to-commit time (pin max) against the "
         "fraction of events lost or recorded zero-filled: a writer that "
         "sleeps between reserve and commit pins its sub-buffer and makes the "
         "others drop events; a writer that cannot fault loses the data "
         "instead."),
    ]
    out += [(f"Sweep: {a}", f"sweep_{a}.png",
             f"Each metric against `{a}`, one line per strategy.") for a in axes]
    return out


def _summary(intro, rows, params, sections) -> str:
    lines = ["# fastring report", ""]
    for para in intro:
        lines += [para, ""]
    lines += ["## Comparison", "",
              render(rows, "markdown", columns=REPORT_COLUMNS, params=params), "",
              legend(columns_for(REPORT_COLUMNS)), ""]
    judged = verdict_lines(rows)
    if judged:
        lines += ["```text", *judged, "```", ""]
    for title, fname, text in sections:
        lines += [f"## {title}", "", text, "", f"![{title}]({fname})", ""]
    return "\n".join(lines)
