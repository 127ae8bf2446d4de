"""``python -m fastring.sweep``: the same as ``fastring sweep``."""
import sys

from ..cli.commands import main

sys.exit(main(["sweep", *sys.argv[1:]]))
