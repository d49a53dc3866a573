#!/usr/bin/env python3
"""Scores bouncex's DSN reader on the DSN corpus (not a test).

Runs `bouncex events --format ndjson` on ../shared/corpus/dsn/maildir, scores the
events with the corpus's score.py against its labels (Sisimai's), and prints the
figures with the issue's targets: recall >= 0.97, status >= 0.95, bucket >= 0.92.

usage: scripts/check-dsn.py [--bin PATH] [--corpus DIR] [--details N] [--strict]

--bin      the bouncex binary (default: build with `cargo build --release` and use
           $CARGO_TARGET_DIR/release/bouncex, or target/release/bouncex)
--corpus   the corpus folder holding maildir/, labels.jsonl and score.py
--details  print up to N mismatches of each kind (score.py --details)
--strict   exit 1 when a target is missed
Python 3 standard library only.
"""

import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGETS = {"recall": 0.97, "status": 0.95, "bucket": 0.92}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin")
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "dsn"))
    ap.add_argument("--details", type=int, default=0)
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args()
    corpus = pathlib.Path(args.corpus)
    if args.bin:
        binary = pathlib.Path(args.bin)
    else:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        binary = target / "release" / "bouncex"
    with tempfile.NamedTemporaryFile(suffix=".ndjson") as out:
        run = subprocess.run(
            [str(binary), "events", "--format", "ndjson", str(corpus / "maildir")],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
        if run.returncode not in (0, 1):
            print(f"bouncex failed ({run.returncode}):\n{run.stderr}", file=sys.stderr)
            return 2
        score_args = [sys.executable, str(corpus / "score.py"), str(corpus / "labels.jsonl"), out.name]
        if args.details:
            score_args += ["--details", str(args.details)]
        else:
            score_args += ["--quiet"]
        score = subprocess.run(score_args, capture_output=True, text=True, check=True)
    print(score.stdout, end="")
    line = next((l for l in score.stdout.splitlines() if l.startswith("dsn-score:")), "")
    figures = dict(re.findall(r"(\w+)=([0-9.]+)", line))
    missed = []
    for name, target in TARGETS.items():
        value = float(figures.get(name, 0))
        ok = value >= target
        missed += [] if ok else [name]
        print(f"{name:8s} {value:.3f}  target >= {target:.2f}  {'ok' if ok else 'MISSED'}")
    print(f"reply    {float(figures.get('reply', 0)):.3f}  (no target)")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
