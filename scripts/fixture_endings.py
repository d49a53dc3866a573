"""Shared by the fixture scripts: CRLF and lone-CR copies of LF fixtures.

`write_copies(fixtures, names)` writes fixtures/crlf/NAME and fixtures/cr/NAME for each
name, rewriting a copy only when its bytes changed, and refuses an original that
already holds a CR (the copies would not be what their folder says).
"""

import sys

ENDINGS = {"crlf": b"\r\n", "cr": b"\r"}


def write_copies(fixtures, names, root=None):
    """Returns 0 on success, 1 when an original is not LF-only."""
    for name in names:
        original = (fixtures / name).read_bytes()
        if b"\r" in original:
            print(f"{name}: the original must use LF line endings only", file=sys.stderr)
            return 1
        for folder, ending in ENDINGS.items():
            target = fixtures / folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            data = original.replace(b"\n", ending)
            if not target.exists() or target.read_bytes() != data:
                target.write_bytes(data)
                if root is not None:
                    print(f"wrote {target.relative_to(root)}")
    return 0
