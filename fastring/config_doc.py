"""``python -m fastring.config_doc``: the old name of :mod:`fastring.config.doc`."""
import sys

from .config import doc as _module

if __name__ == "__main__":
    _module.main()
else:
    sys.modules[__name__] = _module
