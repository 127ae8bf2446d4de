"""``python -m fastring.calibrate``: the same as ``fastring calibrate``."""
import sys

from ..cli.commands import main

sys.exit(main(["calibrate", *sys.argv[1:]]))
