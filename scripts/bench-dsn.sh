#!/usr/bin/env bash
# Side-by-side benchmark of the DSN reader: bouncex and Sisimai (the Perl library,
# Debian package libsisimai-perl) on the same bounce emails, in one run, with emails/s
# for both and the ratio.
#
# The emails are the DSN corpus maildir (../shared/corpus/dsn/maildir) copied N times
# into one flat temporary Maildir-like folder (Sisimai reads one folder, not a tree),
# and into one mbox holding the same emails. Both tools read both containers:
# bouncex with its default threads (and the folder and the mbox again with --threads
# 1), Sisimai with Sisimai->make(PATH, delivered => 1), the 4.x API (5.x renamed it
# rise). The ratios compare the two tools on the same container.
#
# usage: scripts/bench-dsn.sh [N]            (default 10 copies, 4030 emails)
#        REPEAT=1 scripts/bench-dsn.sh [N]   (one turn instead of three)
# needs: perl with Sisimai (installed from Debian if missing), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${1:-10}"
corpus="${DSN_CORPUS:-../shared/corpus/dsn/maildir}"
target="${CARGO_TARGET_DIR:-target}"

if ! perl -MSisimai -e1 2>/dev/null; then
  apt-get update -qq && apt-get install -y -qq libsisimai-perl >/dev/null
fi

cargo build --release --quiet
bin="$target/release/bouncex"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/maildir"
python3 - "$corpus" "$work" "$copies" <<'PY'
import os, re, sys
corpus, work, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(os.path.join(r, f) for r, _, fs in os.walk(corpus) for f in fs)
with open(os.path.join(work, "all.mbox"), "wb") as mbox:
    for i in range(copies):
        for n, path in enumerate(files):
            data = open(path, "rb").read()
            name = f"{i:03d}-{n:04d}.eml"
            open(os.path.join(work, "maildir", name), "wb").write(data)
            body = re.sub(rb"(?m)^(>*From )", rb">\1", data.replace(b"\r\n", b"\n"))
            mbox.write(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + body.rstrip(b"\n") + b"\n\n")
PY
emails=$(find "$work/maildir" -type f | wc -l)
# The copies just written are flushed to disk now, not by writeback during the timed
# runs (which slowed the first runs of both tools by up to a third).
sync

rate() { python3 -c "import sys; n, s = int(sys.argv[1]), float(sys.argv[2]); print(f'{s:8.3f} s {n / s:10.0f} emails/s')" "$@"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# seconds RUNS CMD...: runs CMD, output discarded, RUNS times and prints the median of
# their wall seconds. The timed runs follow an untimed run of the same command (a
# warm-up, as hyperfine's), for both tools alike:
# - this machine's kernel reclaims page cache that has gone cold for a few seconds
#   (kdamond), so a folder read before the other tool's 7-second run was read again
#   from disk in the timed one;
# - warming the cache with `cat` instead made the fresh memory of the timed run
#   costly: zeroing new pages (clear_page) took a third of bouncex's folder run
#   against 4% run after run (0.30-0.38 s against 0.17-0.23 s, session 10), most
#   likely as the pages the cat processes freed went back to the hypervisor (this
#   VM reports free pages). A warm-up run of the same command leaves one state.
# bouncex runs five times a turn, Sisimai once: a run of a tenth of a second is as
# long as one of the host's stalls, which a run of seconds averages out (as hyperfine
# repeats short commands). Times are bash's clock, so no process starts inside them.
seconds() {
  local runs="$1" t0 times=()
  shift
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq "$runs"); do
    t0=$EPOCHREALTIME
    "$@" >/dev/null
    times+=("$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$t0" "$EPOCHREALTIME")")
  done
  median "${times[@]}"
}

# One untimed pass each, so both read from a warm page cache.
"$bin" events "$work/maildir" >"$work/bouncex.ndjson"
"$bin" events "$work/all.mbox" >/dev/null
perl -MSisimai -e 'Sisimai->make($ARGV[0], delivered => 1)' "$work/maildir" >/dev/null 2>&1 || true

sisimai() { perl -MSisimai -e 'my $v = Sisimai->make($ARGV[0], delivered => 1) || []; print scalar(@$v), "\n"' "$1" 2>/dev/null; }
s_results=$(sisimai "$work/maildir")
s_mbox_results=$(sisimai "$work/all.mbox")
# REPEAT turns (default 3), the tools taking turns; medians are reported, with each turn.
b_dir=() b_dir1=() b_mbox=() b_mbox1=() s_dir=() s_mbox=()
for _ in $(seq "${REPEAT:-3}"); do
  b_dir+=("$(seconds 5 "$bin" events "$work/maildir")")
  b_dir1+=("$(seconds 5 "$bin" events --threads 1 "$work/maildir")")
  b_mbox+=("$(seconds 5 "$bin" events "$work/all.mbox")")
  b_mbox1+=("$(seconds 5 "$bin" events --threads 1 "$work/all.mbox")")
  s_dir+=("$(seconds 1 sisimai "$work/maildir")")
  s_mbox+=("$(seconds 1 sisimai "$work/all.mbox")")
done
each() { printf ' %.3f' "$@"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "emails: $emails ($copies copies of $corpus); bouncex events: $(wc -l <"$work/bouncex.ndjson"), Sisimai results: folder $s_results, mbox $s_mbox_results"
echo "${REPEAT:-3} turn(s), medians (each turn in seconds after it: bouncex the median of 5 runs)"
echo "bouncex folder, default threads  $(rate "$emails" "$(median "${b_dir[@]}")")  $(each "${b_dir[@]}")"
echo "bouncex folder, --threads 1      $(rate "$emails" "$(median "${b_dir1[@]}")")  $(each "${b_dir1[@]}")"
echo "bouncex mbox, default threads    $(rate "$emails" "$(median "${b_mbox[@]}")")  $(each "${b_mbox[@]}")"
echo "bouncex mbox, --threads 1        $(rate "$emails" "$(median "${b_mbox1[@]}")")  $(each "${b_mbox1[@]}")"
version=$(perl -MSisimai -e 'print $Sisimai::VERSION')
echo "Sisimai $version folder           $(rate "$emails" "$(median "${s_dir[@]}")")  $(each "${s_dir[@]}")"
echo "Sisimai $version mbox             $(rate "$emails" "$(median "${s_mbox[@]}")")  $(each "${s_mbox[@]}")"
# Each turn's ratio too: the tools ran minutes apart at most, so a slow phase of the
# host weighs on both alike.
join() { local IFS=,; echo "$*"; }
python3 - "$(join "${s_dir[@]}")" "$(join "${s_mbox[@]}")" "$(join "${b_dir[@]}")" \
  "$(join "${b_dir1[@]}")" "$(join "${b_mbox[@]}")" "$(join "${b_mbox1[@]}")" <<'PY'
import statistics, sys
s, sm, d, d1, m, m1 = ([float(x) for x in a.split(",")] for a in sys.argv[1:])
med = statistics.median
print(f"ratio (bouncex / Sisimai emails/s, same container): folder {med(s) / med(d):.1f}x "
      f"(single-thread {med(s) / med(d1):.1f}x), mbox {med(sm) / med(m):.1f}x "
      f"(single-thread {med(sm) / med(m1):.1f}x)")
turns = lambda sis, bx: " ".join(f"{a / b:.1f}x" for a, b in zip(sis, bx))
print(f"ratio per turn: folder {turns(s, d)}, mbox {turns(sm, m)}")
PY
