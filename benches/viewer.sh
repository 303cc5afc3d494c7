#!/usr/bin/env bash
# Benchmark: how long the explorer's viewer takes to open a file after the image is loaded,
# for the first and the last file of each image's largest layer (uncompressed, gzip, zstd),
# with the access points the explorer's load records and without them (as `--json` loads);
# also the load's CPU time either way (the cost of recording) and the points' memory.
#
#   benches/viewer.sh [IMAGE...]   (default: the go-single-stage corpus images in /work/corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q --example viewer-open --example viewer-scroll
if [ $# -eq 0 ]; then
  set -- /work/corpus/go-single-stage.docker.tar /work/corpus/go-single-stage.oci-gzip.tar \
    /work/corpus/go-single-stage.oci-zstd.tar
fi
for img in "$@"; do
  [ -e "$img" ] || { echo "$img: missing (see /work/corpus)"; continue; }
  target/release/examples/viewer-open "$img"
  target/release/examples/viewer-open "$img" --no-points
  # the viewer driven by keys: first screen, End, Home, opened again (docs/benchmarks.md)
  target/release/examples/viewer-scroll "$img"
done
