"""The model against real tracers on this host (the command line,
``fastring validate``, is :mod:`fastring.cli.validate`).

``fastring validate lttng-ust`` runs real LTTng-UST sessions
(:mod:`fastring.tracers.lttng_ust`); ``fastring validate ftrace`` writes to the
kernel's ``trace_marker`` (:mod:`fastring.tracers.ftrace`). Each measures ns
per event, predicts the same cases with the model on a host cost profile, and
writes a side-by-side Markdown table. A tracer that is not installed or
cannot run is bad input for this command: exit status 2, with the reason and
the install command.
"""
from __future__ import annotations

from ._common import Unavailable, machine_facts

__all__ = ["Unavailable", "machine_facts"]
