"""The old import path of :mod:`fastring.world.costs`, kept for users' scripts:
``fastring.costs`` is that very module."""
import sys

from .world import costs as _module

sys.modules[__name__] = _module
