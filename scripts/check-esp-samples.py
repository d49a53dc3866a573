#!/usr/bin/env python3
"""Runs bouncex on every sample in ../shared/reference/esp-samples (never copied into
the repository) and prints, per sample, the detected preset and how its rows were
accounted for. Usage: scripts/check-esp-samples.py [path/to/bouncex]"""
import json, pathlib, subprocess, sys

root = pathlib.Path(__file__).resolve().parent.parent
samples = root.parent / "shared" / "reference" / "esp-samples"
exe = sys.argv[1] if len(sys.argv) > 1 else str(root / "target" / "debug" / "bouncex")
ok = True
for f in sorted(samples.iterdir()):
    report = json.loads(subprocess.run([exe, "analyze", "--format", "json", str(f)],
                                       capture_output=True, text=True).stdout or "{}")
    events = subprocess.run([exe, "events", str(f)], capture_output=True, text=True).stdout
    agents = sorted({json.loads(l)["agent"] for l in events.splitlines() if l.strip()})
    i = report.get("inputs", [{}])[0]
    t = report.get("totals", {})
    balanced = i.get("parsed", 0) + i.get("ignored", 0) + i.get("unrecognized", 0) == i.get("total", -1)
    ok &= balanced and not i.get("error")
    print(f"{f.name}: preset {','.join(agents) or '-'}; {i.get('unit')} {i.get('total')} = "
          f"parsed {i.get('parsed')} + ignored {i.get('ignored')} + unrecognized {i.get('unrecognized')}"
          f"{'' if balanced else ' UNBALANCED'}; deliveries {t.get('deliveries')} "
          f"(bounced {t.get('bounced')}, expired {t.get('expired')}, unclassifiable {t.get('unclassifiable')}, "
          f"suppressed {t.get('suppressed')}){' error: ' + i['error'] if i.get('error') else ''}")
sys.exit(0 if ok else 1)
