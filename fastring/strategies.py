"""The old import path of :mod:`fastring.model.strategies`, kept for users' scripts:
``fastring.strategies`` is that very module."""
import sys

from .model import strategies as _module

sys.modules[__name__] = _module
