#!/usr/bin/env bash
# Benchmark: `bathy compare A B` on two ~1 GB images that differ only in their last layer,
# against analysing one of them twice. Prints wall time and peak RSS of each.
#
#   benches/compare.sh [WORK_DIR] [A B]   (default: a generated gzip OCI pair in target/bench)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-target/bench}
mkdir -p "$WORK"
cargo build --release -q --bin bathy --example make-compare-pair
BATHY=target/release/bathy
A=${2:-$WORK/pair-a.tar}
B=${3:-$WORK/pair-b.tar}
[ -f "$A" ] || target/release/examples/make-compare-pair "$A" "$B" 1000

measure() { # label, command...: prints "label seconds max_rss_MB"
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.$label" "$@" >/dev/null 2>&1
  read -r secs kb < "$WORK/time.$label"
  printf '%-22s %7.2f s  %6d MB\n' "$label" "$secs" $((kb / 1024))
}

cat "$A" "$B" >/dev/null # page cache warm for every run alike
measure "analyse A" "$BATHY" "$A"
measure "analyse B" "$BATHY" "$B"
measure "compare A B" "$BATHY" compare "$A" "$B"
