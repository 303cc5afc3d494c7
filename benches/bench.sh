#!/usr/bin/env bash
# Benchmark: bathy's full analysis against the plain baseline of decompressing and listing
# every layer (zcat / tar -t) of the same archive. Prints wall time, entries/s, MB/s and peak
# RSS for both, and RSS per entry for bathy.
#
#   benches/bench.sh [WORK_DIR]        (default: target/bench; images are generated once)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-target/bench}
mkdir -p "$WORK"
cargo build --release -q --bin bathy --example make-bench-image
BATHY=target/release/bathy
GEN=target/release/examples/make-bench-image
[ -f "$WORK/many.tar" ] || "$GEN" many "$WORK/many.tar" 510000 20
[ -f "$WORK/gzip.tar" ] || "$GEN" gzip "$WORK/gzip.tar" 1000

measure() { # label, command...: prints "seconds max_rss_kb"
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.$label" "$@" >/dev/null 2>&1
  cat "$WORK/time.$label"
}

baseline() { # archive: list every layer member through tar (and zcat when gzip)
  local archive=$1
  local members
  members=$(tar -tf "$archive" | grep -E '(layer\.tar$|^blobs/sha256/)')
  for m in $members; do
    if tar -xOf "$archive" "$m" | head -c 2 | od -An -tx1 | grep -q '1f 8b'; then
      tar -xOf "$archive" "$m" | zcat | tar -t >/dev/null 2>&1 || true
    else
      tar -xOf "$archive" "$m" | tar -t >/dev/null 2>&1 || true
    fi
  done
}
export -f baseline

report() { # label archive
  local label=$1 archive=$2
  local entries mb
  "$BATHY" --json "$WORK/$label.json" "$archive"
  entries=$(python3 -c "import json,sys;d=json.load(open('$WORK/$label.json'));print(sum(l['entries'] for l in d['bathyscaphe']['layers']))")
  mb=$(python3 -c "import json;d=json.load(open('$WORK/$label.json'));print(sum(l['tarBytes'] for l in d['bathyscaphe']['layers'])/1e6)")
  read -r bt brss < <(measure "$label-bathy" "$BATHY" "$archive")
  read -r nt nrss < <(measure "$label-bathy-noverify" "$BATHY" --no-verify "$archive")
  read -r zt zrss < <(measure "$label-baseline" bash -c "baseline '$archive'")
  python3 - "$label" "$entries" "$mb" "$bt" "$brss" "$nt" "$nrss" "$zt" "$zrss" <<'PY'
import sys
label, entries, mb, bt, brss, nt, nrss, zt, zrss = sys.argv[1:]
entries = int(entries); mb = float(mb)
bt, nt, zt = float(bt), float(nt), float(zt)
brss, nrss, zrss = int(brss), int(nrss), int(zrss)
print(f"== {label}: {entries} entries, {mb:.0f} MB of layer tar")
for name, t, rss in (("bathy (verify)", bt, brss), ("bathy --no-verify", nt, nrss), ("baseline zcat/tar -t", zt, zrss)):
    print(f"  {name:22s} {t:7.2f} s  {entries/max(t,1e-9):12.0f} entries/s  {mb/max(t,1e-9):8.1f} MB/s  peak RSS {rss/1024:7.1f} MB")
print(f"  bathy/baseline wall: {bt/zt:.2f}x (goal <= 1.5x); RSS per entry: {brss*1024/entries:.0f} B (goal < 300 B)")
PY
}

report many "$WORK/many.tar"
report gzip "$WORK/gzip.tar"
