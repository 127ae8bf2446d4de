"""``report.html``: the whole report in one self-contained file (plots
embedded as data URIs, no script, no external style sheet or font), to open
in any browser or attach to a mail: the setup, the comparison table, the
verdict, the plots and the full config the results were made with."""
from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import pyarrow as pa

from .format import MICRO
from .table import REPORT_COLUMNS, cells, columns_for, legend
from .verdict import verdict_lines

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1250px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
div.wide { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; }
th, td { padding: 0.2em 0.45em; border-bottom: 1px solid #e4e4e4; white-space: nowrap; }
th { background: #f3f3f3; } th.group { background: #e8eef6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
p.legend { font-size: 0.85em; color: #555; }
details summary { cursor: pointer; color: #2a5db0; }
"""


def _inline(text: str) -> str:
    """Markdown-ish `code` spans to HTML, the rest escaped."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text, quote=False))


def _table(rows, params) -> str:
    head, body = cells(rows, columns_for(REPORT_COLUMNS), params, MICRO)
    n_left = 1 + len(params)
    groups, i = [], 0
    while i < len(head):                 # adjacent columns under one group title
        j = i
        while j + 1 < len(head) and head[i][0] and head[j + 1][0] == head[i][0]:
            j += 1
        groups.append((head[i][0], j - i + 1))
        i = j + 1
    out = ["<table>", "<thead><tr>" + "".join(
        f'<th class="group" colspan="{n}">{html.escape(g)}</th>' if g else
        f'<th colspan="{n}"></th>' for g, n in groups) + "</tr>",
        "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for _, h in head) + "</tr></thead>",
        "<tbody>"]
    for row in body:
        out.append("<tr>" + "".join(
            f"<td>{html.escape(c)}</td>" if k < n_left else
            f'<td class="num">{html.escape(c)}</td>' for k, c in enumerate(row)) + "</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def _config_text(runs: pa.Table) -> str:
    meta = runs.schema.metadata or {}
    raw = meta.get(b"fastring.config")
    if raw is None:
        return "(the results carry no config)"
    cfg = json.loads(raw)
    try:
        from ..config.doc import config_toml
        return config_toml(cfg)
    except Exception:                    # an older or foreign config: as JSON
        return json.dumps(cfg, indent=1, sort_keys=True)


def report_html(intro: list[str], rows: list[dict], params, sections,
                written: dict[str, Path], runs: pa.Table) -> str:
    """The page; ``sections`` are (title, plot file, text), ``written`` maps
    plot files to their paths (read back and embedded)."""
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>fastring report</title>", f"<style>{STYLE}</style>", "</head>",
             "<body>", "<h1>fastring report</h1>"]
    parts += [f"<p>{_inline(p)}</p>" for p in intro]
    table = f'<div class="wide">{_table(rows, params)}</div>'
    if len(rows) > 30:                   # a sweep: the plots come into view first
        table = (f"<details><summary>the comparison table: {len(rows)} runs "
                 f"(show)</summary>{table}</details>")
    parts += ["<h2>Comparison</h2>", table,
              f'<p class="legend">{_inline(legend(columns_for(REPORT_COLUMNS)))}</p>']
    judged = verdict_lines(rows)
    if judged:
        parts.append("<pre>" + html.escape("\n".join(judged)) + "</pre>")
    for title, fname, text in sections:
        data = base64.b64encode(written[fname].read_bytes()).decode("ascii")
        parts += [f"<h2>{html.escape(title)}</h2>", f"<p>{_inline(text)}</p>",
                  f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">']
    parts += ["<h2>Config</h2>",
              "<details><summary>the full config of these results (TOML; loads back "
              "with <code>fastring run --config</code>)</summary>",
              "<pre>" + html.escape(_config_text(runs)) + "</pre></details>",
              "</body>", "</html>"]
    return "\n".join(parts) + "\n"
