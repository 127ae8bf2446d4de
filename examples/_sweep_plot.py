"""What the plot examples share: the command line (``SWEEP_DIR [-o IMAGE]``),
the sweep's rows, and what counts as a lost record."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fastring.sweep import read


def lost(r) -> int:
    """Records dropped: no room (lost_full), overwritten (lost_wrap) or too
    big for a sub-buffer (lost_big)."""
    return r["lost_full"] + r["lost_wrap"] + r["lost_big"]


def sweep_rows(doc: str, default_dir: str, image: str,
               argv=None) -> tuple[list[dict], Path]:
    """Parse the command line of a plot example (``doc`` is its docstring)
    and read its sweep: returns the ``runs`` rows and the image path
    (``-o``, else ``SWEEP_DIR/image``); exits 1 when no cell is complete."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("sweep_dir", nargs="?", default=default_dir)
    ap.add_argument("-o", "--output", default=None,
                    help=f"image file (default: SWEEP_DIR/{image})")
    args = ap.parse_args(argv)
    rows = read(args.sweep_dir).to_pylist()
    if not rows:
        print(f"{args.sweep_dir}: no completed cells", file=sys.stderr)
        sys.exit(1)
    return rows, Path(args.output or Path(args.sweep_dir) / image)
