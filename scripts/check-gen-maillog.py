#!/usr/bin/env python3
"""Check bouncex against logs from ../shared/tools/gen-maillog and its truth summary.

Generates a log (or reuses one), runs `bouncex analyze --format json`, and compares
totals (recipients, delivered, delivered after deferral, bounced, expired) and the
final failures by bucket, split by bounced and expired, with the generator's truth.

usage: scripts/check-gen-maillog.py [--messages N | --bytes SIZE] [--seed S]
                                    [--format syslog|rfc3339] [--bin BOUNCEX]
                                    [other gen-maillog options, passed through]
Not a test: the generator is not part of the repository. Exit 1 on any difference.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUCKETS = ["list_rot", "reputation", "auth", "infrastructure", "transient", "content", "unknown"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "target", "release", "bouncex"))
    ap.add_argument("--gen", default=os.path.join(HERE, "..", "..", "shared", "tools", "gen-maillog"))
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--bytes")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--format", default="syslog", help="syslog or rfc3339")
    ap.add_argument("--dir", default=None, help="where to write the log (default: a temp dir)")
    args, extra = ap.parse_known_args()
    work = args.dir or tempfile.mkdtemp(prefix="bouncex-gen-")
    log = os.path.join(work, f"gen-{args.seed}.log")
    truth_path = log + ".truth.json"
    size = ["--bytes", args.bytes] if args.bytes else ["--messages", str(args.messages)]
    subprocess.run([sys.executable, args.gen, *size, "--seed", args.seed, "--format", args.format,
                    "-o", log, "--truth", truth_path, *extra], check=True)
    truth = json.load(open(truth_path))
    report = json.loads(subprocess.run([args.bin, "analyze", "--format", "json", log],
                                       check=True, capture_output=True, text=True).stdout)
    t = report["totals"]
    fo = truth["final_outcomes"]
    rows = [
        ("recipients", truth["recipients"], t["deliveries"] + t["pending"]),
        ("delivered", fo["delivered"], t["delivered"]),
        ("delivered_after_deferral", fo["delivered_after_deferral"], t["delivered_after_deferral"]),
        ("bounced", fo["bounced"], t["bounced"]),
        ("expired", fo["expired"], t["expired"]),
        ("pending", 0, t["pending"]),
    ]
    got = {b["bucket"]: b for b in report["buckets"]}
    for b in BUCKETS:
        rows.append((f"failed.{b}", truth["final_failures_by_bucket"].get(b, 0), got[b]["failed"]))
        rows.append((f"bounced.{b}", truth["bounced_by_bucket"].get(b, 0), got[b]["bounced"]))
        rows.append((f"expired.{b}", truth["expired_by_bucket"].get(b, 0), got[b]["expired"]))
    # Delivered-after-deferral is shown but not judged: when one message lists the
    # same address twice and both copies are retried, the log alone cannot tell which
    # copy a deferral belonged to.
    bad = [r for r in rows if r[1] != r[2] and r[0] != "delivered_after_deferral"]
    for name, want, have in rows:
        flag = "" if want == have else "   <-- differs"
        print(f"{name:28s} truth {want:9d} bouncex {have:9d}{flag}")
    inputs = report["inputs"][0]
    print(f"lines: total {inputs['total']} parsed {inputs['parsed']} ignored {inputs['ignored']} "
          f"unrecognized {inputs['unrecognized']}")
    print("gen-maillog:", "PASS" if not bad else f"FAIL ({len(bad)} rows differ)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
