"""``python -m fastring.sweep``: the same as ``fastring sweep``."""
import sys

from .cli import main

sys.exit(main())
