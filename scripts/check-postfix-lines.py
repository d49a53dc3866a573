#!/usr/bin/env python3
"""Feed every line of ../shared/corpus/postfix-lines to bouncex.

Full-line files are read as they are; message-only files (TSV, ASO sample) get a
syslog prefix with the daemon their source names. Checks that bouncex exits cleanly
(no panic), that every line is accounted for (total == parsed + ignored +
unrecognized, total == lines fed) and prints the unrecognized lines by reason.

usage: scripts/check-postfix-lines.py [--bin BOUNCEX] [--corpus DIR] [-v]
Not a test: the corpus is not part of the repository.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = "Nov 22 10:00:00 mx1 postfix/{daemon}[4242]: "


def daemon_of(pattern):
    m = re.match(r"POSTFIX_([A-Z_]+)", pattern or "")
    if not m:
        return "smtp"
    name = m.group(1).lower()
    return {"tls_features": "smtp", "command_counter_data": "smtpd", "mc_milter": "cleanup",
            "relay": "smtp", "script": "postfix-script", "trivial_rewrite": "trivial-rewrite"}.get(name, name)


def lines_of(path):
    name = os.path.basename(path)
    out = []
    for raw in open(path, encoding="utf-8", errors="replace"):
        raw = raw.rstrip("\n")
        if raw.startswith("#") or not raw.strip():
            continue
        if name.startswith("whyscream"):
            parts = raw.split("\t", 2)
            if len(parts) < 3:
                continue
            out.append(PREFIX.format(daemon=daemon_of(parts[1])) + parts[2])
        elif name.startswith("logwatch"):
            parts = raw.split("\t", 2)
            if len(parts) < 3:
                continue
            msg = parts[2]
            daemon = "smtpd" if msg.startswith(("NOQUEUE", "connect", "disconnect", "lost connection")) else "smtp"
            out.append(PREFIX.format(daemon=daemon) + msg)
        elif name.startswith("tobinjt"):
            out.append(PREFIX.format(daemon="smtp") + raw)
        else:
            out.append(raw)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "target", "release", "bouncex"))
    ap.add_argument("--corpus", default=os.path.join(HERE, "..", "..", "shared", "corpus", "postfix-lines"))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    ok = True
    work = tempfile.mkdtemp(prefix="bouncex-lines-")
    for name in sorted(os.listdir(args.corpus)):
        if name.endswith((".md", ".json")):
            continue
        lines = lines_of(os.path.join(args.corpus, name))
        path = os.path.join(work, name + ".log")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        run = subprocess.run([args.bin, "analyze", "--format", "json", "--input-format", "postfix",
                              "--year", "2026", "--show-unparsed", path], capture_output=True, text=True)
        if run.returncode != 0 or "panicked" in run.stderr:
            print(f"{name}: exit {run.returncode}: {run.stderr.strip()[:300]}")
            ok = False
            continue
        report = json.loads(run.stdout)
        i = report["inputs"][0]
        balanced = i["total"] == i["parsed"] + i["ignored"] + i["unrecognized"] == len(lines)
        ok &= balanced
        print(f"{name}: lines {len(lines)} total {i['total']} parsed {i['parsed']} ignored {i['ignored']} "
              f"unrecognized {i['unrecognized']} deliveries {report['totals']['deliveries'] + report['totals']['pending']}"
              f"{'' if balanced else '  <-- NOT BALANCED'}")
        reasons = collections.Counter(u["reason"] for u in report.get("unrecognized_samples", []))
        for reason, n in reasons.most_common():
            print(f"    unrecognized {n:3d} x {reason}")
        if args.verbose:
            for u in report.get("unrecognized_samples", []):
                print(f"      {u['line']}: {u['reason']}: {u['text'][:160]}")
    print("postfix-lines:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
