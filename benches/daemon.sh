#!/usr/bin/env bash
# Benchmark: analysing an image straight from the Docker daemon (streamed export) against
# `docker save -o` to a file and analysing that file. Prints wall time and peak RSS of each step
# (best of RUNS); the daemon's own work is in both and not in the RSS figures.
#
#   benches/daemon.sh [IMAGE] [RUNS]     (default: corpus/go-single-stage, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:-corpus/go-single-stage}
RUNS=${2:-3}
WORK=target/bench-daemon
mkdir -p "$WORK"
cargo build --release -q --bin bathy
BATHY=target/release/bathy
docker image inspect "$IMAGE" >/dev/null

measure() { # label, command...: appends "seconds max_rss_kb" to $WORK/LABEL.runs
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.$label" "$@" >/dev/null 2>&1
  cat "$WORK/time.$label" >>"$WORK/$label.runs"
}

rm -f "$WORK"/*.runs
for _ in $(seq 1 "$RUNS"); do
  measure daemon "$BATHY" "$IMAGE" --json "$WORK/daemon.json"
  rm -f "$WORK/image.tar"
  measure save docker save -o "$WORK/image.tar" "$IMAGE"
  measure file "$BATHY" "$WORK/image.tar" --json "$WORK/file.json"
done
size=$(stat -c %s "$WORK/image.tar")
rm -f "$WORK/image.tar"

best() { sort -n "$WORK/$1.runs" | head -1; }
read -r d_s d_kb <<<"$(best daemon)"
read -r s_s s_kb <<<"$(best save)"
read -r f_s f_kb <<<"$(best file)"
printf '%s: %s MB export, best of %s runs\n' "$IMAGE" "$((size / 1000000))" "$RUNS"
printf '%-34s %8s %12s\n' step seconds "peak RSS MB"
printf '%-34s %8s %12s\n' "bathy IMAGE (streamed)" "$d_s" "$((d_kb / 1024))"
printf '%-34s %8s %12s\n' "docker save -o" "$s_s" "$((s_kb / 1024))"
printf '%-34s %8s %12s\n' "bathy FILE" "$f_s" "$((f_kb / 1024))"
printf '%-34s %8s %12s\n' "docker save + bathy FILE" "$(awk "BEGIN{print $s_s + $f_s}")" "$(((s_kb > f_kb ? s_kb : f_kb) / 1024))"
# the two reports must agree on everything but where the image came from
python3 - "$WORK/daemon.json" "$WORK/file.json" <<'EOF'
import json, sys
def load(p):
    d = json.load(open(p))
    b = d["bathyscaphe"]
    for k in ("source", "format"):
        b.pop(k, None)
    for k in ("id", "repoDigests"):
        b["image"].pop(k, None)
    for l in d["layer"]:
        l.pop("id", None)
    return d
print("reports agree" if load(sys.argv[1]) == load(sys.argv[2]) else "REPORTS DIFFER")
EOF
