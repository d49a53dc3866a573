#!/usr/bin/env bash
# Side-by-side benchmark: bouncex, pflogsumm and wc -l on the same generated Postfix
# log, in one run, with the ratios and bouncex's peak memory. Also checks that the
# parallel and sequential paths give identical JSON, the .gz throughput, and peak
# memory on a log a tenth the size.
#
# Each measurement is taken REPEAT times (default 3), the tools taking turns, and the
# median is reported with every run beside it: the machine is shared and its speed
# moves by 10-15% within minutes, so a single run of each tool can catch a fast minute
# for one and a slow one for the other.
#
# usage: scripts/bench.sh [SIZE]      (default 1G; the log is cached in bench-data/)
#        REPEAT=1 scripts/bench.sh     (one turn: about 70 s instead of 3.5 min)
# needs: ../shared/tools/gen-maillog, pflogsumm (installed from Debian if missing),
#        GNU time (/usr/bin/time), gzip.
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-1G}"
small_size="${SMALL_SIZE:-100M}"
repeat="${REPEAT:-3}"
gen=../shared/tools/gen-maillog
data=bench-data
mkdir -p "$data"

if ! command -v pflogsumm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq pflogsumm >/dev/null
fi
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

cargo build --release --quiet
bin=target/release/bouncex

make_log() { # size path
  if [ ! -s "$2" ]; then
    python3 "$gen" --bytes "$1" --seed 1 --jobs 2 -o "$2" --truth "$2.truth.json" >&2
  fi
}
log="$data/maillog-$size"
small="$data/maillog-$small_size"
make_log "$size" "$log"
make_log "$small_size" "$small"
[ -s "$log.gz" ] || gzip -1 -k -c "$log" > "$log.gz"

bytes=$(stat -c %s "$log")
mb=$(python3 -c "print($bytes/1e6)")
small_mb=$(python3 -c "import os; print(os.path.getsize('$small')/1e6)")

# run NAME CMD...: appends the wall seconds and peak RSS (KB) of CMD to
# $data/runs.NAME; its output goes to $data/out.NAME.
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$data/time.$name" "$@" > "$data/out.$name" 2>/dev/null
  cat "$data/time.$name" >> "$data/runs.$name"
}

# same_report A B: whether two JSON reports agree on everything but their inputs (a
# .gz report names another file).
same_report() {
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b):
    r.pop("inputs")
print("yes" if a == b else "NO")
PY
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "log: $log ($mb MB, $(wc -l < "$log") lines); $repeat turn(s), medians"
echo
names=(wc bouncex bouncex-seq bouncex-gz bouncex-small)
[ -z "${SKIP_PFLOGSUMM:-}" ] && names+=(pflogsumm)
for name in "${names[@]}"; do rm -f "$data/runs.$name"; done
identical=yes
gz_same=yes
for _ in $(seq "$repeat"); do
  # The plain log is read by wc first; read the .gz too, so that both bouncex runs
  # start from a warm page cache (the machine evicts cold file pages on its own).
  cat "$log.gz" > /dev/null
  run wc wc -l "$log"
  run bouncex "$bin" analyze --format json "$log"
  run bouncex-seq "$bin" analyze --format json --threads 1 "$log"
  run bouncex-gz "$bin" analyze --format json "$log.gz"
  run bouncex-small "$bin" analyze --format json "$small"
  [ -z "${SKIP_PFLOGSUMM:-}" ] && run pflogsumm pflogsumm --problems-first "$log"
  cmp -s "$data/out.bouncex" "$data/out.bouncex-seq" || identical=NO
  [ "$(same_report "$data/out.bouncex" "$data/out.bouncex-gz")" = yes ] || gz_same=NO
done

python3 - "$data" "$mb" "$small_mb" "$size" "$small_size" "${names[@]}" <<'PY'
import statistics, sys
data, mb, small_mb, size, small_size = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
names = sys.argv[6:]
runs = {}
for name in names:
    rows = [line.split() for line in open(f"{data}/runs.{name}") if line.strip()]
    runs[name] = [(float(secs), int(kb)) for secs, kb in rows]
median = {n: (statistics.median(s for s, _ in r), statistics.median(k for _, k in r)) for n, r in runs.items()}
pf = median["pflogsumm"][0] if "pflogsumm" in median else 0
print(f"{'tool':16s} {'seconds':>9s} {'MB/s':>9s} {'peak RSS MB':>12s} {'vs pflogsumm':>13s}   each run (s)")
for name in names:
    secs, kb = median[name]
    size_mb = small_mb if name == "bouncex-small" else mb
    ratio = f"{pf / secs:.1f}x" if pf and name.startswith("bouncex") and name != "bouncex-small" else ""
    each = " ".join(f"{s:.2f}" for s, _ in runs[name])
    print(f"{name:16s} {secs:9.2f} {size_mb / max(secs, 1e-9):9.1f} {kb / 1024:12.1f} {ratio:>13s}   {each}")
print()
if pf:
    turns = zip(runs["bouncex"], runs["pflogsumm"])
    print("bouncex vs pflogsumm, each turn: " + " ".join(f"{p / b:.1f}x" for (b, _), (p, _) in turns))
big, small = median["bouncex"][1], median["bouncex-small"][1]
turns = " ".join(f"{b / s:.2f}x" for (_, b), (_, s) in zip(runs["bouncex"], runs["bouncex-small"]))
print(f"peak memory {size} vs {small_size}: {big / 1024:.1f} MB vs {small / 1024:.1f} MB = {big / small:.2f}x (each turn: {turns})")
gz = " ".join(f"{p / g:.1%}" for (p, _), (g, _) in zip(runs["bouncex"], runs["bouncex-gz"]))
print(f".gz throughput, share of the plain log's: {median['bouncex'][0] / median['bouncex-gz'][0]:.1%} (each turn: {gz})")
PY
echo "parallel == sequential JSON: $identical; .gz == plain JSON: $gz_same"
