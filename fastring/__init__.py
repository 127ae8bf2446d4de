"""fastring: how should a tracer copy faultable user data into its per-CPU
ring buffers? A deterministic, compiled simulation of an LTTng-style ring
buffer under each candidate strategy. See README.md and docs/model.md."""
from .version import __version__
from . import kernel_cache as _kernel_cache

_kernel_cache.setup()   # before any kernel module is imported (see kernel_cache)

from .api import run  # noqa: E402
from .config import ConfigError, load  # noqa: E402
from .io.results import Results  # noqa: E402
from .model.strategies import ProgramError  # noqa: E402
from . import live  # noqa: E402  (callable: fastring.live(config), docs/live.md)

__all__ = ["run", "live", "load", "Results", "ConfigError", "ProgramError",
           "__version__"]
