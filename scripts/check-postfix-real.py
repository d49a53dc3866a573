#!/usr/bin/env python3
"""Check bouncex against the real-Postfix corpus (../shared/corpus/postfix-real).

For every (queue id, recipient) in truth.jsonl: the delivery's outcome must equal the
observed final outcome, and every failed delivery's bucket should equal the intended
bucket. Runs both the classic log and the RFC 3339 copy, and checks that
`analyze --format json` totals agree with `events --deliveries`.

usage: scripts/check-postfix-real.py [--bin target/release/bouncex] [--corpus DIR] [-v]
Not a test: the corpus is not part of the repository. Exit 1 when outcomes differ or
bucket agreement is below 97%.
"""
import argparse
import collections
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(binary, args):
    out = subprocess.run([binary] + args, check=True, capture_output=True, text=True)
    return out.stdout


def check(binary, corpus, log_name, verbose):
    truth = [json.loads(l) for l in open(os.path.join(corpus, "truth.jsonl"))]
    log = os.path.join(corpus, log_name)
    deliveries = {}
    dupes = 0
    for line in run(binary, ["events", "--deliveries", "--year", "2026", log]).splitlines():
        d = json.loads(line)
        key = (d["queue_id"], d["recipient"])
        if key in deliveries:
            dupes += 1
        deliveries[key] = d
    outcome_bad, bucket_bad, failed = [], [], 0
    per_scenario = collections.Counter()
    for t in truth:
        key = (t["queue_id"], t["recipient"])
        d = deliveries.get(key)
        if d is None:
            outcome_bad.append((t["scenario"], key, "missing", t["observed_final"]))
            continue
        if d["outcome"] != t["observed_final"]:
            outcome_bad.append((t["scenario"], key, d["outcome"], t["observed_final"]))
        if t["observed_final"] in ("bounced", "expired"):
            failed += 1
            if d["bucket"] != t["bucket"]:
                bucket_bad.append((t["scenario"], d["bucket"], t["bucket"], d.get("rule")))
                per_scenario[(t["scenario"], d["bucket"], t["bucket"], d.get("rule"))] += 1
    extra = len(deliveries) - len(truth)
    report = json.loads(run(binary, ["analyze", "--format", "json", "--year", "2026", log]))
    totals = report["totals"]
    expect = collections.Counter(t["observed_final"] for t in truth)
    totals_ok = (totals["delivered"], totals["bounced"], totals["expired"]) == (
        expect["delivered"], expect["bounced"], expect["expired"])
    agree = 1 - len(bucket_bad) / failed if failed else 1.0
    print(f"{log_name}: {len(truth)} deliveries in truth, {len(deliveries)} from bouncex "
          f"(extra {extra}, duplicates {dupes})")
    print(f"  outcomes wrong: {len(outcome_bad)}; analyze totals match truth: {totals_ok}")
    print(f"  failed deliveries: {failed}; bucket agreement: {agree:.4f} "
          f"({failed - len(bucket_bad)}/{failed})")
    inputs = report["inputs"][0]
    print(f"  lines: total {inputs['total']} parsed {inputs['parsed']} ignored {inputs['ignored']} "
          f"unrecognized {inputs['unrecognized']}")
    for (scenario, got, want, rule), n in sorted(per_scenario.items()):
        print(f"  miss {n:3d} x {scenario}: got {got} want {want} (rule {rule})")
    if verbose:
        for row in outcome_bad[:20]:
            print("  outcome", row)
    return not outcome_bad and totals_ok and extra == 0 and agree >= 0.97


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "target", "release", "bouncex"))
    ap.add_argument("--corpus", default=os.path.join(HERE, "..", "..", "shared", "corpus", "postfix-real"))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    ok = all([check(args.bin, args.corpus, name, args.verbose) for name in ("maillog", "maillog.rfc3339")])
    print("postfix-real:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
