"""Comparison tables, verdicts and plots of results (``fastring report``).

- :mod:`.table`: the comparison table in text, CSV, JSON or Markdown
  (:func:`render`), its columns (:data:`COLUMNS`);
- :mod:`.verdict`: the best strategy per criterion and the Pareto front;
- :mod:`.make`: :func:`make_report` reads a results directory and writes the
  PNG plots (:mod:`.dists`, :mod:`.figures`), ``summary.md`` and a
  self-contained ``report.html`` (:mod:`.html`);
- :mod:`.format`: numbers as people read them; :mod:`.runs`: which config
  columns vary between runs.

matplotlib (the ``plot`` extra) is imported lazily and used without pyplot
(no global backend switch); without it :class:`MissingExtra` is raised.
"""
from .format import (MICRO, fmt_count, fmt_fraction, fmt_ns, fmt_ratio,  # noqa: F401
                     unit_symbol)
from .make import make_report  # noqa: F401
from .runs import config_columns, sweep_axes, varying_columns  # noqa: F401
from .style import MissingExtra, strategy_colors  # noqa: F401
from .table import (COLUMNS, DEFAULT_COLUMNS, FORMATS, ColumnError, columns_for,  # noqa: F401
                    comparison_table, legend, lost, lost_fraction, render)
from .verdict import pareto_front, verdict, verdict_lines  # noqa: F401

_unit_symbol = unit_symbol       # the 0.2 name
