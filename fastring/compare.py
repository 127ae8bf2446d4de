"""The old import path of :mod:`fastring.report.compare`, kept for users' scripts:
``fastring.compare`` is that very module."""
import sys

from .report import compare as _module

sys.modules[__name__] = _module
