"""``fastring live``: the strategy programs and buffer kernels on real
threads, with real atomics, a real reader and injected or real page faults
(see docs/live.md).

``fastring.live(config, ...)`` runs it (:func:`fastring.live.run.live`). The
package itself is callable for that: ``fastring.live`` names both this
package and the function, and a module attribute could not be both.
"""
import sys
import types

from .run import LIVE_COLUMNS, check, default_threads, live, result_lines

__all__ = ["live", "check", "default_threads", "result_lines", "LIVE_COLUMNS"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return live(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
