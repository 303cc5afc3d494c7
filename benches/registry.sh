#!/usr/bin/env bash
# Benchmark: `bathy registry://…` against `skopeo copy docker://… oci:DIR` (the download
# alone) and against that copy followed by `bathy` on the result, on an image pushed to a
# local registry (Debian's docker-registry on 127.0.0.1, plain HTTP). Then the layer cache: a
# second tag that differs only in its last layer, with a warm cache. Prints wall time, peak
# RSS and CPU time (user + system) of each; the download against bathy in paired rounds.
#
#   benches/registry.sh OCI_ARCHIVE [WORK_DIR]
#   e.g. benches/registry.sh ../corpus/go-single-stage.oci-gzip.tar
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:?an OCI archive to push (e.g. go-single-stage.oci-gzip.tar)}
WORK=${2:-target/bench/registry}
rm -rf "$WORK" && mkdir -p "$WORK/store"
WORK=$(realpath "$WORK")
# BATHY=path/to/bathy skips the build
if [ -z "${BATHY:-}" ]; then
  cargo build --release -q --bin bathy
  BATHY=$PWD/target/release/bathy
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOST=127.0.0.1:$PORT
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORK/store
http:
  addr: $HOST
  secret: bench
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REG=$!
trap 'kill $REG 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://$HOST/v2/" >/dev/null && break; sleep 0.1; done
skopeo copy -q --insecure-policy --dest-tls-verify=false "oci-archive:$IMAGE" "docker://$HOST/bench:1"

measure() { # label, command...: prints "label wall_s max_rss_MB cpu_s" (CPU: user + system)
  local label=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err.${label//[^a-z]/_}" || {
    echo "$label failed:"; cat "$WORK/err.${label//[^a-z]/_}"; exit 1; }
  read -r secs kb user sys <"$WORK/time"
  printf '%-40s %8.2f s %8d MB %8.2f s CPU\n' "$label" "$secs" $((kb / 1024)) \
    "$(echo "$user + $sys" | bc)"
}

REF="registry://$HOST/bench:1"
SKOPEO=(skopeo copy -q --insecure-policy --src-tls-verify=false "docker://$HOST/bench:1")
echo "$(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# the goal's pair, in paired rounds (one right after the other, so load hits both alike):
# the download alone against bathy straight from the registry; the median of the per-round
# ratios is the figure (ROUNDS, default 5)
for r in $(seq "${ROUNDS:-5}"); do
  rm -rf "$WORK/copy"
  measure "round $r: skopeo copy (download alone)" "${SKOPEO[@]}" "oci:$WORK/copy:bench"
  measure "round $r: bathy registry:// (no cache)" "$BATHY" "$REF" --insecure-registry "$HOST" --no-cache --json /dev/null
done | tee "$WORK/rounds"
python3 - "$WORK/rounds" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
sk = [(float(r[-7]), float(r[-3])) for r in rows if "skopeo" in r]
ba = [(float(r[-7]), float(r[-3])) for r in rows if "bathy" in r]
for i, what in ((0, "wall"), (1, "CPU")):
    ratios = [b[i] / s[i] for s, b in zip(sk, ba) if s[i] > 0]
    print(f"bathy registry:// over the download alone, {what}: median {statistics.median(ratios):.2f}x"
          f" (bathy {statistics.median(b[i] for b in ba):.2f} s, skopeo {statistics.median(s[i] for s in sk):.2f} s)")
PY
rm -rf "$WORK/copy"
measure "skopeo copy (download alone)" "${SKOPEO[@]}" "oci:$WORK/copy:bench"
measure "bathy on the copy" "$BATHY" "oci://$WORK/copy" --no-cache --json /dev/null
rm -rf "$WORK/copy"
measure "skopeo copy + bathy" bash -c "${SKOPEO[*]} oci:$WORK/copy:bench && $BATHY oci://$WORK/copy --no-cache --json /dev/null"
measure "bathy registry:// (no cache)" "$BATHY" "$REF" --insecure-registry "$HOST" --no-cache --json /dev/null
measure "bathy registry:// (cold cache)" "$BATHY" "$REF" --insecure-registry "$HOST" --cache-dir "$WORK/cache" --json /dev/null
measure "bathy registry:// (warm cache)" "$BATHY" "$REF" --insecure-registry "$HOST" --cache-dir "$WORK/cache" --json /dev/null

# the next tag: the same image with one small layer on top, pushed by hand
python3 - "$HOST" <<'PY'
import hashlib, io, json, sys, tarfile, urllib.request, gzip
host = sys.argv[1]
def req(method, path, data=None, headers=None):
    url = path if path.startswith("http") else f"http://{host}{path}"
    r = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    return urllib.request.urlopen(r)
accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
m = json.load(req("GET", "/v2/bench/manifests/1", headers={"Accept": accept}))
cfg = json.load(req("GET", f"/v2/bench/blobs/{m['config']['digest']}"))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    data = b"next release\n" * 1000
    info = tarfile.TarInfo("app/RELEASE"); info.size = len(data); t.addfile(info, io.BytesIO(data))
tar = buf.getvalue(); blob = gzip.compress(tar)
def push(b):
    d = "sha256:" + hashlib.sha256(b).hexdigest()
    loc = req("POST", "/v2/bench/blobs/uploads/").headers["Location"]
    sep = "&" if "?" in loc else "?"
    req("PUT", f"{loc}{sep}digest={d}", data=b, headers={"Content-Type": "application/octet-stream"})
    return d
cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(tar).hexdigest())
cfg.setdefault("history", []).append({"created_by": "COPY RELEASE /app/"})
cb = json.dumps(cfg).encode()
m["config"]["digest"], m["config"]["size"] = push(cb), len(cb)
media = m["layers"][0]["mediaType"].replace("tar+zstd", "tar+gzip")
m["layers"].append({"mediaType": media, "digest": push(blob), "size": len(blob)})
mt = m.get("mediaType", "application/vnd.oci.image.manifest.v1+json")
req("PUT", "/v2/bench/manifests/2", data=json.dumps(m).encode(), headers={"Content-Type": mt})
PY
measure "bathy next tag (warm cache)" "$BATHY" "registry://$HOST/bench:2" --insecure-registry "$HOST" --cache-dir "$WORK/cache" --json /dev/null
