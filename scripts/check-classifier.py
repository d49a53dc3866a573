#!/usr/bin/env python3
"""Measures the built-in classifier against the shared reference data (not a test).

  (a) labeled-diagnostics.csv, rows labelled by Sisimai: bucket agreement with the
      Sisimai reason through corpus/dsn/reason-map.json, and the share of `unknown`;
  (b) provider-codes.csv: each row against its suggested `our_bucket`, with the
      deviations documented in src/classify/provider-cases.tsv counted apart;
  (c) corpus/postfix-real/truth.jsonl, bounced and expired rows: observed text and
      enhanced code against the scenario's bucket, misses listed per scenario.

Runs `target/release/bouncex classify` when that subcommand exists, else the
`classify_batch` helper test (`cargo test --release --lib -- --ignored classify_batch`).
Python 3 standard library only.

usage: scripts/check-classifier.py [--shared DIR] [--show-misses] [--no-build]
"""

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = {"a": 92.0, "a_unknown": 3.0, "b": 100.0, "c": 97.0}


def one_line(text):
    return " ".join(text.split())


# ---------------------------------------------------------------- running the classifier


_BINARY = []


def real_binary(build):
    """`target/release/bouncex` when it has the `classify` subcommand, rebuilt first
    (a stale binary would carry an old rule table); None to use the helper test."""
    if _BINARY:
        return _BINARY[0]
    if build:
        built = subprocess.run(
            ["cargo", "build", "--release", "--quiet", "--bin", "bouncex"],
            cwd=ROOT,
            capture_output=True,
        )
        if built.returncode != 0:
            sys.stderr.write("check-classifier: cargo build failed; using the classify_batch helper\n")
            _BINARY.append(None)
            return None
    exe = os.path.join(ROOT, "target", "release", "bouncex")
    if not os.access(exe, os.X_OK):
        _BINARY.append(None)
        return None
    try:
        probe = subprocess.run(
            [exe, "classify", "--help"], capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        _BINARY.append(None)
        return None
    _BINARY.append(exe if probe.returncode == 0 else None)
    return _BINARY[0]


def classify(lines, build=True):
    """Returns one record {input, reply_code, enhanced_code, bucket, reason, rule}
    per input line, in order."""
    payload = "".join(line + "\n" for line in lines)
    exe = real_binary(build)
    if exe:
        out = subprocess.run(
            [exe, "classify"], input=payload.encode(), capture_output=True, check=True
        ).stdout.decode()
        records = [json.loads(l) for l in out.splitlines() if l.strip()]
    else:
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = os.path.join(tmp, "in.txt"), os.path.join(tmp, "out.ndjson")
            with open(src, "w", encoding="utf-8") as f:
                f.write(payload)
            env = dict(os.environ, BOUNCEX_CLASSIFY_IN=src, BOUNCEX_CLASSIFY_OUT=dst)
            cmd = ["cargo", "test", "--release", "--lib", "--quiet"]
            if not build:
                cmd.append("--offline")
            cmd += ["--", "--ignored", "--exact", "classify::tests::classify_batch"]
            run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True)
            if run.returncode != 0 or not os.path.exists(dst):
                sys.stderr.write(run.stdout.decode() + run.stderr.decode())
                sys.exit("check-classifier: the classify_batch helper failed")
            with open(dst, encoding="utf-8") as f:
                records = [json.loads(l) for l in f if l.strip()]
    if len(records) != len(lines):
        sys.exit(f"check-classifier: {len(lines)} lines in, {len(records)} records out")
    return records


# ---------------------------------------------------------------- (a) Sisimai labels


def with_codes(text, code, enhanced):
    """The text, with the label's codes in front when the text lacks them."""
    text = one_line(text)
    missing = (code and code not in text) or (enhanced and enhanced not in text)
    if missing:
        prefix = " ".join(c for c in (code, enhanced) if c)
        return f"{prefix} {text}".strip()
    return text


def expected_buckets(reason_map, reason, code, enhanced):
    entry = reason_map["reasons"].get(reason)
    if entry is None or entry.get("score", True) is False:
        return None
    klass = (enhanced or code or " ")[0]
    entry = entry.get("by_class", {}).get(klass, entry)
    return {entry["bucket"], *entry.get("also_accept", [])}


def part_a(shared, build, show):
    reason_map = json.load(open(os.path.join(shared, "corpus/dsn/reason-map.json")))
    rows = []
    with open(os.path.join(shared, "reference/labeled-diagnostics.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if not row["peer_label"].startswith("sisimai:"):
                continue
            reason = row["peer_label"].split(":", 1)[1]
            want = expected_buckets(reason_map, reason, row["code"], row["enhanced"])
            if want is None:
                continue
            rows.append((row, reason, want))
    lines = [with_codes(r["text"], r["code"], r["enhanced"]) for r, _, _ in rows]
    records = classify(lines, build)
    agree = unknown = 0
    misses = Counter()
    examples = defaultdict(list)
    for (row, reason, want), rec in zip(rows, records):
        if rec["bucket"] == "unknown":
            unknown += 1
        if rec["bucket"] in want:
            agree += 1
        else:
            key = f"{reason} -> {rec['bucket']}"
            misses[key] += 1
            examples[key].append(f"{rec['rule']}: {rec['input'][:160]}")
    n = len(rows)
    pa, pu = 100.0 * agree / n, 100.0 * unknown / n
    print(f"(a) Sisimai-labelled diagnostics: {n} scored rows")
    print(f"    bucket agreement {agree}/{n} = {pa:.1f}% (target >= {TARGETS['a']}%)")
    print(f"    unknown {unknown}/{n} = {pu:.1f}% (target < {TARGETS['a_unknown']}%)")
    for key, count in misses.most_common():
        print(f"    miss {count:3d}  {key}")
        if show:
            for ex in examples[key]:
                print(f"             {ex}")
    return pa >= TARGETS["a"] and pu < TARGETS["a_unknown"]


# ---------------------------------------------------------------- (b) provider codes


def first_alternative(pattern):
    """Longest top-level alternative of a simple `a|b` pattern."""
    parts, depth, cur = [], 0, ""
    for ch in pattern:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "|" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return max(parts, key=len)


def realise(pattern):
    """A reply text that the provider's pattern (a substring or simple regex) matches."""
    text = pattern.replace("\u202f", " ")
    m = re.fullmatch(r"(OFR|LPN)\*_(\d+) / .*", text)
    if m:
        return f"{m.group(1)}004_{m.group(2)} [{m.group(2)}]"
    m = re.fullmatch(r"(AUP#I)(\d+)\.\.\d+", text)
    if m:
        return m.group(1) + m.group(2)
    text = first_alternative(text)
    while True:
        new = re.sub(r"\(([^()|]*)\)\?", r"\1", text)
        new = re.sub(r"\(([^()|]*)\|[^()]*\)", r"\1", new)
        new = re.sub(r"\(([^()|]*)\)", r"\1", new)
        if new == text:
            break
        text = new
    text = text.replace(".*", " 192.0.2.1 ").replace(" ?", " ").replace("\\.", ".")
    return " ".join(text.split())


def first_code(field):
    field = field.strip()
    if not field:
        return ""
    return re.split(r"\s*[-/]\s*", field)[0]


def load_documented():
    """Row number -> (our bucket, why) for the deviations written down beside the
    Rust test (src/classify/provider-cases.tsv)."""
    doc = {}
    path = os.path.join(ROOT, "src/classify/provider-cases.tsv")
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            row, suggested, ours = int(cols[0]), cols[1], cols[2]
            why = cols[4] if len(cols) > 4 else ""
            if ours != suggested:
                doc[row] = (ours, why)
    return doc


def part_b(shared, build, show):
    with open(os.path.join(shared, "reference/provider-codes.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    documented = load_documented()
    lines = []
    for row in rows:
        codes = " ".join(c for c in (row["reply_code"].strip(), first_code(row["enhanced_code"])) if c)
        lines.append(f"{codes} {realise(row['text_pattern'])}".strip())
    records = classify(lines, build)
    agree = doc_ok = 0
    misses = []
    for i, (row, rec) in enumerate(zip(rows, records), start=1):
        if i in documented:
            ours, why = documented[i]
            if rec["bucket"] == ours:
                doc_ok += 1
            else:
                misses.append((i, row, rec, f"documented as {ours} ({why})"))
        elif rec["bucket"] == row["our_bucket"]:
            agree += 1
        else:
            misses.append((i, row, rec, f"suggested {row['our_bucket']}"))
    n = len(rows)
    print(f"(b) provider-codes.csv: {n} rows")
    print(f"    agree with the suggested bucket: {agree}")
    print(f"    documented deviations (src/classify/provider-cases.tsv), as documented: {doc_ok} of {len(documented)}")
    print(f"    undocumented misses: {len(misses)}")
    pb = 100.0 * (agree + doc_ok) / n
    print(f"    agreement or documented: {pb:.1f}% (target {TARGETS['b']}%)")
    for i, row, rec, what in misses:
        print(f"    miss row {i} {row['provider'][:24]}: got {rec['bucket']} ({rec['rule']}), {what}: {rec['input'][:120]}")
    return not misses


# ---------------------------------------------------------------- (c) real Postfix


def part_c(shared, build, show):
    rows = []
    with open(os.path.join(shared, "corpus/postfix-real/truth.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r["expected_final"] in ("bounced", "expired"):
                rows.append(r)
    lines = []
    for r in rows:
        text = one_line(r["observed_text"] or "")
        enh = r.get("observed_enhanced") or ""
        lines.append(text if not enh or enh in text else f"{enh} {text}")
    records = classify(lines, build)
    per = defaultdict(lambda: [0, 0])
    miss_examples = {}
    for r, rec in zip(rows, records):
        s = per[r["scenario"]]
        s[1] += 1
        if rec["bucket"] == r["bucket"]:
            s[0] += 1
        else:
            miss_examples.setdefault(r["scenario"], (r["bucket"], rec))
    ok = sum(s[0] for s in per.values())
    n = len(rows)
    pc = 100.0 * ok / n
    print(f"(c) postfix-real bounced/expired: {ok}/{n} = {pc:.1f}% (target >= {TARGETS['c']}%)")
    for scenario, (good, total) in sorted(per.items()):
        if good != total:
            want, rec = miss_examples[scenario]
            print(f"    miss {scenario}: {total - good}/{total}, want {want}, got {rec['bucket']} ({rec['rule']}): {rec['input'][:140]}")
    return pc >= TARGETS["c"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--show-misses", action="store_true", help="list every (a) miss")
    ap.add_argument("--no-build", action="store_true", help="pass --offline to cargo")
    args = ap.parse_args()
    build = not args.no_build
    results = [
        part_a(args.shared, build, args.show_misses),
        part_b(args.shared, build, args.show_misses),
        part_c(args.shared, build, args.show_misses),
    ]
    print("targets met" if all(results) else "targets NOT met")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
