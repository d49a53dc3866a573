#!/usr/bin/env bash
# Side-by-side benchmark: bouncex, pflogsumm and wc -l on the same generated Postfix
# log, in one run, with the ratios and bouncex's peak memory. Also checks that the
# parallel and sequential paths give identical JSON, the .gz throughput, and peak
# memory on a log a tenth the size.
#
# usage: scripts/bench.sh [SIZE]      (default 1G; the log is cached in bench-data/)
# needs: ../shared/tools/gen-maillog, pflogsumm (installed from Debian if missing),
#        GNU time (/usr/bin/time), gzip.
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-1G}"
small_size="${SMALL_SIZE:-100M}"
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

# run NAME CMD...: prints wall seconds and peak RSS (KB) of CMD, output discarded.
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$data/time.$name" "$@" > "$data/out.$name" 2>/dev/null
  read -r secs kb < "$data/time.$name"
  echo "$name $secs $kb"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "log: $log ($mb MB, $(wc -l < "$log") lines)"
echo
# The plain log is read by wc first; read the .gz too, so that both bouncex runs
# start from a warm page cache (the machine evicts cold file pages on its own).
cat "$log.gz" > /dev/null
results=()
results+=("$(run wc wc -l "$log")")
results+=("$(run bouncex $bin analyze --format json "$log")")
results+=("$(run bouncex-seq $bin analyze --format json --threads 1 "$log")")
results+=("$(run bouncex-gz $bin analyze --format json "$log.gz")")
results+=("$(run bouncex-small $bin analyze --format json "$small")")
if [ "${SKIP_PFLOGSUMM:-}" = "" ]; then
  results+=("$(run pflogsumm pflogsumm --problems-first "$log")")
fi

if cmp -s "$data/out.bouncex" "$data/out.bouncex-seq"; then identical=yes; else identical=NO; fi
# The .gz report names another file; compare everything but the inputs.
gz_same=$(python3 - "$data/out.bouncex" "$data/out.bouncex-gz" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b):
    r.pop("inputs")
print("yes" if a == b else "NO")
EOF
)

printf '%-16s %9s %10s %12s %10s\n' tool seconds "MB/s" "peak RSS MB" "vs pflogsumm"
pf_secs=$(printf '%s\n' "${results[@]}" | awk '$1=="pflogsumm"{print $2}')
for r in "${results[@]}"; do
  read -r name secs kb <<< "$r"
  size_mb=$mb
  [ "$name" = bouncex-small ] && size_mb=$(python3 -c "import os;print(os.path.getsize('$small')/1e6)")
  python3 - "$name" "$secs" "$kb" "$size_mb" "${pf_secs:-0}" <<'EOF'
import sys
name, secs, kb, mb, pf = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
ratio = f"{pf / secs:.1f}x" if pf and name.startswith("bouncex") and name != "bouncex-small" else ""
print(f"{name:16s} {secs:9.2f} {mb / max(secs, 1e-9):10.1f} {kb / 1024:12.1f} {ratio:>10s}")
EOF
done
echo
echo "parallel == sequential JSON: $identical; .gz == plain JSON: $gz_same"
big_kb=$(awk '{print $2}' "$data/time.bouncex")
small_kb=$(awk '{print $2}' "$data/time.bouncex-small")
python3 -c "print(f'peak memory $size vs $small_size: {$big_kb/1024:.1f} MB vs {$small_kb/1024:.1f} MB = {$big_kb/$small_kb:.2f}x')" 2>/dev/null \
  || echo "peak memory: $big_kb KB vs $small_kb KB"
