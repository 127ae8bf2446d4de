"""The compiled engine's former single module: an alias of :mod:`fastring.sim`.

Kept so that ``from fastring import engine as E`` and ``E.run_chunk`` keep working.
"""
from __future__ import annotations

from .sim.layout import *  # noqa: F401,F403 (every layout name)
from .sim.state import (  # noqa: F401
    State,
    new_state)
from .sim.queue import (  # noqa: F401
    _less,
    heap_push,
    _min_child,
    heap_pop,
    heap_replace,
    _pending_before)
from .sim.scheduler import (  # noqa: F401
    _draw,
    _preempted,
    _start,
    _release,
    _place)
from .sim.event import (  # noqa: F401
    _kind_of,
    draw_event,
    _trace_index,
    _think,
    _no_more,
    _issue)
from .sim.faults import (  # noqa: F401
    _service,
    bernoulli_page,
    _touch)
from .sim.steps import (  # noqa: F401
    _mark,
    _slot_written,
    _copy_user,
    _copy_kernel,
    _finish,
    _step)
from .sim.loop import (  # noqa: F401
    _reader,
    init,
    run_chunk)
