"""The old import path of :mod:`fastring.io.results`, kept for users' scripts:
``fastring.results`` is that very module."""
import sys

from .io import results as _module

sys.modules[__name__] = _module
