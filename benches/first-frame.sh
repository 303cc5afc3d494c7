#!/usr/bin/env bash
# Benchmark: how soon the explorer shows the image (first frame on the first layers read),
# against the whole image drawn and "why is it big", from an archive and from a registry
# behind a slow link.
#
#   benches/first-frame.sh [IMAGE...]      (default: the go-single-stage OCI gzip corpus image)
#   RATE=20 benches/first-frame.sh --registry IMAGE.oci.tar
#       pushes the OCI archive to a local docker-registry (Debian's) with skopeo and reads it
#       through a proxy that sends each connection at RATE MB/s (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q --example first-frame
bin=target/release/examples/first-frame
if [ "${1:-}" != "--registry" ]; then
  [ $# -eq 0 ] && set -- /work/corpus/go-single-stage.oci-gzip.tar
  for img in "$@"; do
    [ -e "$img" ] || { echo "$img: missing (see /work/corpus)"; continue; }
    # CPU time too: on a shared machine it says more than the wall time
    /usr/bin/time -f "  (%U s user, %S s sys, %M KB peak)" "$bin" "$img"
  done
  exit 0
fi
img=${2:?an OCI archive}
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
reg=$(free_port)
cat >"$tmp/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $tmp/storage
http:
  addr: 127.0.0.1:$reg
YML
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$reg") 2>/dev/null && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false "oci-archive:$img" "docker://127.0.0.1:$reg/bench:1"
proxy=$(free_port)
python3 - "$proxy" "$reg" "${RATE:-20}" <<'PY' &
import socket, sys, threading, time
listen, upstream, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) * 1e6
def pipe(src, dst, limit):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
            if limit:
                time.sleep(len(b) / limit)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
def handle(c):
    u = socket.create_connection(("127.0.0.1", upstream))
    threading.Thread(target=pipe, args=(c, u, 0), daemon=True).start()
    pipe(u, c, rate)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen))
srv.listen(64)
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
PY
pids+=($!)
sleep 0.5
echo "registry through a proxy at ${RATE:-20} MB/s per connection:"
NO_PROXY='*' /usr/bin/time -f "  (%U s user, %S s sys, %M KB peak)" \
  "$bin" "registry://127.0.0.1:$proxy/bench:1" --insecure-registry "127.0.0.1:$proxy"
