#!/usr/bin/env bash
# Benchmark: the HTML report's file size and how long headless Chromium takes to draw it
# (the page records `performance.now()` at its first treemap draw in #tm-state's data-ms).
#
#   benches/html.sh [WORK_DIR] [IMAGE...]   (default: target/bench; a 1,000,000-entry image
#                                            is generated once; go-single-stage when present)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-target/bench}
shift || true
mkdir -p "$WORK"
cargo build --release -q --bin bathy --example make-bench-image
BATHY=target/release/bathy
[ -f "$WORK/million.tar" ] || target/release/examples/make-bench-image many "$WORK/million.tar" 1000000 10
IMAGES=("$WORK/million.tar" "$@")
[ $# -gt 0 ] || { [ -f /work/corpus/go-single-stage.docker.tar ] && IMAGES+=(/work/corpus/go-single-stage.docker.tar); }
PROFILE=$(mktemp -d)
trap 'rm -rf "$PROFILE"' EXIT
for img in "${IMAGES[@]}"; do
  out="$WORK/$(basename "$img" .tar).html"
  /usr/bin/time -f "%e" -o "$WORK/time.html" "$BATHY" "$img" --no-verify --html "$out"
  bytes=$(stat -c %s "$out")
  draws=()
  for _ in 1 2 3; do
    ms=$(chromium --headless=new --no-sandbox --disable-gpu --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$PROFILE" --virtual-time-budget=10000 --dump-dom "file://$(realpath "$out")" \
      2>/dev/null | grep -o 'data-ms="[0-9]*"' | grep -o '[0-9]*')
    draws+=("$ms")
  done
  printf '%s: bathy %s s, page %s bytes, first draw after %s ms (3 runs)\n' \
    "$(basename "$img")" "$(cat "$WORK/time.html")" "$bytes" "${draws[*]}"
done
