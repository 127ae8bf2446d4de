"""``python -m fastring.calibrate``: the same as ``fastring calibrate``."""
import sys

from fastring.calibrate import main

sys.exit(main())
