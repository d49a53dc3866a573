#!/usr/bin/env python3
"""Derives the generated DSN fixtures from the hand-written ones.

The emails in tests/fixtures/dsn/*.eml are written by hand (LF line endings, made-up
hosts and addresses). This script writes the fixtures that are copies or bundles of
them, so they stay in sync:

    tests/fixtures/dsn/crlf/NAME.eml    every LF replaced by CR LF
    tests/fixtures/dsn/cr/NAME.eml      every LF replaced by a lone CR
    tests/fixtures/dsn/truncated.eml    the first 1500 bytes of rfc3464-postfix.eml
    tests/fixtures/dsn/several.mbox     three messages in one mbox, body lines that
                                        start with "From " escaped (mboxrd)
    tests/fixtures/dsn/maildir/{cur,new}/...   a Maildir with two messages

Rerun it after editing a fixture:

    python3 scripts/make-dsn-fixtures.py

Python 3 standard library only.
"""

import pathlib
import re
import sys

from fixture_endings import write_copies

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "dsn"

# Originals that get CRLF and CR copies: one per kind of reader (multipart/report,
# qmail and Exim text, a Sendmail transcript, Gmail's text).
COPIES = ["rfc3464-postfix.eml", "qmail.eml", "exim.eml", "sendmail-v5.eml", "gmail.eml"]


# A bounce whose text has lines starting with "From " (escaped in the mbox).
ESCAPED = b"""From: Mail Delivery System <MAILER-DAEMON@mx.sender.example>
To: judy@sender.example
Subject: Undelivered Mail Returned to Sender
Date: Tue, 24 Mar 2026 07:00:00 +0000

This is the mail system at host mx.sender.example.

<kurt@closed.example>: host mx.closed.example[198.51.100.3] said: 550 5.7.1
    Message refused
From here on the remote said nothing more.
>From a quoted line too.

--- Below this line is a copy of the message.

From: judy@sender.example
To: kurt@closed.example
Subject: hi
"""


def mbox_escape(message: bytes) -> bytes:
    """mboxrd: one more '>' before every line that is '>'* then 'From '."""
    return re.sub(rb"(?m)^(>*From )", rb">\1", message)


def main() -> int:
    if write_copies(FIXTURES, COPIES) != 0:
        return 1

    postfix = (FIXTURES / "rfc3464-postfix.eml").read_bytes()
    (FIXTURES / "truncated.eml").write_bytes(postfix[:1500])

    parts = [
        (FIXTURES / "qmail.eml").read_bytes(),
        ESCAPED,
        (FIXTURES / "vacation.eml").read_bytes(),
    ]
    mbox = b""
    for i, message in enumerate(parts):
        mbox += b"From MAILER-DAEMON Tue Mar 24 07:00:0%d 2026\n" % i
        mbox += mbox_escape(message).rstrip(b"\n") + b"\n\n"
    (FIXTURES / "several.mbox").write_bytes(mbox)

    maildir = {
        "maildir/cur/1774335600.M1P100.host.sender.example:2,S": "exim.eml",
        "maildir/new/1774335601.M2P100.host.sender.example": "yahoo.eml",
    }
    for target, source in maildir.items():
        path = FIXTURES / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((FIXTURES / source).read_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
