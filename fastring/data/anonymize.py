"""Anonymize an strace capture: every quoted string becomes filler of the
same *decoded* length (so payload lengths are kept), truncation marks kept.

    python -m fastring.data.anonymize IN OUT.gz
"""
from __future__ import annotations

import gzip
import sys

from fastring.world.strace import _ESCAPE, _STRING


def _filler(m) -> str:
    raw = m.group(1)
    n = len(_ESCAPE.sub("e", raw)) if "\\" in raw else len(raw)
    return '"' + "x" * n + '"' + (m.group(2) or "")


def anonymize_line(line: str) -> str:
    return _STRING.sub(_filler, line) if '"' in line else line


def main(argv=None) -> int:
    src, dst = (argv if argv is not None else sys.argv[1:])
    with open(src, encoding="latin-1") as fin, gzip.open(dst, "wt", encoding="latin-1") as fout:
        for line in fin:
            fout.write(anonymize_line(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
