#!/usr/bin/env python3
"""Write adversarial Postfix logs for memory tests (issue: bounded memory).

--mode never-removed: every message gets qmgr from=, message-id= and a deferral, and is
never removed, so correlation state would grow with the log without eviction.
--mode wide: one message with ever more deferred recipients.
--mode many-domains: complete messages, each to a new recipient domain, deferred
(connection refused) and then bounced (mailbox full): tables kept per domain or per
address would grow with the log.

usage: scripts/make-adversarial-log.py --mode never-removed --bytes 100M -o FILE
"""
import argparse


def size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["never-removed", "wide", "many-domains"], required=True)
    ap.add_argument("--bytes", required=True)
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    target = size(args.bytes)
    written = 0
    n = 0
    with open(args.output, "w") as f:
        while written < target:
            batch = []
            for _ in range(10000):
                t = f"Nov 22 {(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}"
                if args.mode == "never-removed":
                    q = f"{n:012X}"
                    batch.append(f"{t} mx1 postfix/cleanup[2]: {q}: message-id=<m{n}@adv.example>\n")
                    batch.append(f"{t} mx1 postfix/qmgr[3]: {q}: from=<s{n}@adv.example>, size=1000, nrcpt=1 (queue active)\n")
                    batch.append(f"{t} mx1 postfix/smtp[4]: {q}: to=<r{n}@example.org>, relay=none, delay=1, dsn=4.4.1, status=deferred (connect to mx.example.org[192.0.2.1]:25: Connection refused)\n")
                elif args.mode == "many-domains":
                    q = f"{n:012X}"
                    d = f"d{n}.example"
                    batch.append(f"{t} mx1 postfix/qmgr[3]: {q}: from=<news@adv.example>, size=1000, nrcpt=1 (queue active)\n")
                    batch.append(f"{t} mx1 postfix/smtp[4]: {q}: to=<r{n}@{d}>, relay=none, delay=1, dsn=4.4.1, status=deferred (connect to mx.{d}[192.0.2.1]:25: Connection refused)\n")
                    batch.append(f"{t} mx1 postfix/smtp[4]: {q}: to=<r{n}@{d}>, relay=mx.{d}[192.0.2.1]:25, delay=2, dsn=5.2.2, status=bounced (host mx.{d}[192.0.2.1] said: 552 5.2.2 <r{n}@{d}>: Mailbox full (in reply to RCPT TO command))\n")
                    batch.append(f"{t} mx1 postfix/qmgr[3]: {q}: removed\n")
                else:
                    batch.append(f"{t} mx1 postfix/smtp[4]: AAAAAAAAAA: to=<r{n}@example.org>, relay=none, delay=1, dsn=4.4.1, status=deferred (connect to mx.example.org[192.0.2.1]:25: Connection refused)\n")
                n += 1
            chunk = "".join(batch)
            f.write(chunk)
            written += len(chunk)


if __name__ == "__main__":
    main()
