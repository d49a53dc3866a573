#!/usr/bin/env python3
"""Derives the line-ending copies of the hand-written Postfix fixtures.

The fixtures in tests/fixtures/postfix/*.log are written by hand (LF line endings).
This script writes, for the ones listed in COPIES:

    tests/fixtures/postfix/crlf/NAME.log   every LF replaced by CR LF (Windows)
    tests/fixtures/postfix/cr/NAME.log     every LF replaced by a lone CR (old Mac)

The integration tests check that each copy gives the same report as its original and
that the copies are still in sync with the originals, so rerun this script after
editing a fixture:

    python3 scripts/make-postfix-fixtures.py

gzip copies are made at test time (flate2), so no binary file is kept in the tree.
Python 3 standard library only.
"""

import pathlib
import sys

from fixture_endings import write_copies

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "postfix"

# Originals that get CRLF and CR copies: the KPI fixture, the correlation fixture
# and the negative (malformed lines) fixture.
COPIES = ["basic.log", "correlation.log", "malformed.log"]

def main() -> int:
    return write_copies(FIXTURES, COPIES, ROOT)


if __name__ == "__main__":
    sys.exit(main())
