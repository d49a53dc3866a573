#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers and the code extractor / classifier with
# cargo-fuzz (libFuzzer), one target after the other, one job each.
#
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 600); TARGET defaults to all of fuzz/fuzz_targets.
# env:     FUZZ_SANITIZER=none to build without AddressSanitizer (default: address);
#          CARGO_TARGET_DIR to build elsewhere (default: fuzz/target).
# Stops at the first crash; it lands in fuzz/artifacts/<target>/. Replay one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(postfix_line dsn export codes)

# cargo-fuzz needs nightly flags (-Zsanitizer, ...); the stable toolchain accepts
# them with RUSTC_BOOTSTRAP=1.
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

# Seed corpora from the repo's own fixtures (fuzz/corpus is git-ignored).
fx=tests/fixtures
seed() { # target dir...
  local dest="fuzz/corpus/$1"; shift
  mkdir -p "$dest"
  local f
  # Named by content, as libFuzzer names its own finds: reruns add no duplicates.
  find "$@" -type f -size -65k -print0 | while IFS= read -r -d '' f; do
    cp "$f" "$dest/$(sha1sum <"$f" | cut -c1-40)"
  done
}
seed postfix_line "$fx/postfix"
seed dsn "$fx/dsn"
seed export "$fx/export"
# codes: one diagnostic text per file, from the status lines of the Postfix and
# diagnose fixtures.
mkdir -p fuzz/corpus/codes
cat "$fx"/postfix/*.log "$fx"/diagnose/*.log | grep -a 'status=\|said:' |
  sed 's/.*status=[a-z]* //' | sort -u | split -a 4 -l 1 - fuzz/corpus/codes/seed-

for t in "${targets[@]}"; do
  case "$t" in codes) max_len=4096 ;; *) max_len=65536 ;; esac
  echo "== $t: ${secs}s" >&2
  cargo fuzz run -s "${FUZZ_SANITIZER:-address}" "$t" -- \
    -max_total_time="$secs" -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1
done
