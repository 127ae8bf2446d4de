"""The one nested configuration of fastring: schema, defaults, loading, validation.

A run is described by a single nested dict (section -> key -> value) that the
CLI, the Python API and the result tables share (DESIGN.md, "Configuration").
:func:`load` builds it from layers, later ones winning:

1. :data:`DEFAULTS`, which make ``fastring run`` meaningful on its own;
2. the tracer preset named by ``tracer.preset`` (:mod:`fastring.world.presets`),
   for the keys the next two layers leave unset;
3. a *source*: a partial nested dict, or the path of a TOML file;
4. *overrides*: ``"section.key=value"`` strings (the CLI's ``--set``), or
   ``(dotted key, value)`` pairs (values the CLI already holds, such as the
   ``--strategy`` list).

Derived defaults: ``workload.capture_max`` follows ``workload.capture``
unless set; with ``workload.source = "trace"`` the capture sets
``run.events``, the tasks and ``workload.syscalls`` (:mod:`fastring.world.replay`).

Merge rules
    Tables merge key by key; scalars and lists replace. So a source that sets
    ``workload.syscalls.openat.weight`` keeps the rest of the default mix
    (unless it sets ``workload.replace_mix = true``: then its kinds are the
    whole mix, as in the files ``fastring fit`` writes), and
    a source or override that names a new kind (``[workload.syscalls.mmap]``,
    ``workload.syscalls.mmap.weight=0.1``) adds it to the mix. A kind's missing
    sub-keys take their defaults (``payload = "none"``, ``len_median = 1``,
    ``len_sigma = 0``); ``weight`` is required.

    An override whose value is a table *replaces* the table at its key:
    ``workload.syscalls={read={weight=1, payload="buffer"}}`` leaves ``read``
    as the only kind (the one way to drop kinds from the default mix). Only a
    whole fixed section is merged into (``buffer={mode="overwrite"}``).

    Override values are parsed as TOML values (``3``, ``1e-3``, ``true``,
    ``"x"``, ``[1, 2]``, ``{a = 1}``); text that is not a TOML value is taken
    as a bare string, so ``buffer.mode=overwrite`` works.

Normalization
    The result is a new dict: ints are ``int`` (an integral float such as
    ``1e6`` is accepted for an int key), floats are ``float``, sub-key defaults
    are filled in, ``faults.inject`` is sorted by event. Syscall kinds and
    user strategies are sorted by name: the kinds' order indexes the engine's
    arrays, and sorting makes a config read back from its JSON (``to_json``
    sorts keys) run exactly the same as the original.

Validation is the config's alone, and happens once per run, in :func:`load`:
each key against :data:`SCHEMA` (:mod:`.schema`), then the config as a whole
(:mod:`.checks`: constraints between keys, the replayed capture, the
strategy programs compiled by their checker, the bounds of the engine's
clock). Every :class:`ConfigError` names the dotted key, what is allowed and
the value given. The result, a :class:`Config`, carries the compiled
programs and resolved costs for the layers below (:func:`programs`,
:func:`resolved_costs`); :mod:`.loading` says how.
"""
from ..errors import ConfigError
from .columns import flatten, to_json
from .loading import Config, load, programs, resolved_costs, validate
from .schema import BUILTIN_STRATEGIES, DEFAULTS, SCHEMA, Key

# used by config.doc, sweep.grid and the tests under their old names
from . import layers  # noqa: F401,E402
from .loading import _read_toml  # noqa: F401,E402
from .schema import _OPTIONAL, _REQUIRED, _describe  # noqa: F401,E402

__all__ = ["BUILTIN_STRATEGIES", "DEFAULTS", "SCHEMA", "Config", "ConfigError",
           "Key", "flatten", "load", "programs", "resolved_costs", "to_json",
           "validate"]
