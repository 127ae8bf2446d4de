"""``python -m fastring``: the command line (``fastring --help``)."""
import sys

from .cli import main

sys.exit(main())
