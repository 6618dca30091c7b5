#!/usr/bin/env bash
# Pull throughput from a local registry: `genstack pull --insecure` of a
# synthetic ~0.7-1.3 GB model into an empty GENSTACK_HOME, beside
# `skopeo copy` of the same artifact to an OCI layout directory.
# A benchmark, not a test: it prints MB/s (10^6 bytes/s) and checks nothing
# but that both copies finish.
#
#   bench/store/pull_bench.sh                 # llama-3.2-1b q4_0 (0.7 GB)
#   TYPE=q8_0 bench/store/pull_bench.sh       # 1.3 GB
#   MODEL=/tmp/x.gguf RUNS=3 bench/store/pull_bench.sh
#
# Environment: GENSTACK_BINARY (default build/src/genstack), GENSTACK_SHARED_DIR
# (default ../shared), MODEL (a GGUF to use instead of synthesizing one),
# TYPE (q4_0 | q8_0), RUNS (timed pulls of each tool, default 1),
# BENCH_DIR (scratch folder, default a new one under $TMPDIR; needs ~4x the model).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
genstack=$(realpath -m "${GENSTACK_BINARY:-$repo/build/src/genstack}")
shared=$(realpath -m "${GENSTACK_SHARED_DIR:-$repo/../shared}")
type=${TYPE:-q4_0}
runs=${RUNS:-1}

die() { echo "pull_bench: $*" >&2; exit 1; }
[[ -x $genstack ]] || die "no genstack at $genstack (build it or set GENSTACK_BINARY)"
command -v docker-registry >/dev/null || die "docker-registry is not installed (scripts/install.sh)"
command -v skopeo >/dev/null || die "skopeo is not installed (scripts/install.sh)"
command -v curl >/dev/null || die "curl is not installed"

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/pull_bench.XXXXXX")
registry_pid=
cleanup() {
  if [[ -n $registry_pid ]]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
# mbps BYTES SECONDS
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }

# ---- the registry, on a free port
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break
  kill -0 "$registry_pid" 2>/dev/null || die "docker-registry exited: $(cat "$work/registry.log")"
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/v2/" >/dev/null || die "docker-registry does not answer on port $port"

# ---- the model
model=${MODEL:-}
if [[ -z $model ]]; then
  model=$work/llama-3.2-1b-$type.gguf
  echo "synthesizing llama-3.2-1b $type ..." >&2
  python3 "$shared/tools/synth_gguf.py" --preset llama-3.2-1b --type "$type" --out "$model" >&2
fi
[[ -f $model ]] || die "no model file $model"

ref=localhost:$port/bench/model:v1
echo "packaging and pushing $(basename "$model") ..." >&2
GENSTACK_HOME=$work/src "$genstack" package --gguf "$model" "$ref" >/dev/null
GENSTACK_HOME=$work/src "$genstack" push --insecure "$ref" >/dev/null 2>"$work/push.log" ||
  die "push failed: $(tail -3 "$work/push.log")"
bytes=$(GENSTACK_HOME=$work/src "$genstack" inspect "$ref" | python3 -c 'import json, sys; print(json.load(sys.stdin)["size"])')

printf 'artifact: %s (%s bytes) from docker-registry on 127.0.0.1:%s\n' "$(basename "$model")" "$bytes" "$port"
for run in $(seq "$runs"); do
  rm -rf "$work/dst" "$work/oci"
  t0=$(now)
  GENSTACK_HOME=$work/dst "$genstack" pull --insecure "$ref" >/dev/null 2>"$work/pull.log" ||
    die "genstack pull failed: $(tail -3 "$work/pull.log")"
  t1=$(now)
  skopeo copy --quiet --src-tls-verify=false "docker://127.0.0.1:$port/bench/model:v1" "oci:$work/oci:v1" >/dev/null ||
    die "skopeo copy failed"
  t2=$(now)
  pull_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  skopeo_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
  printf 'run %d: genstack pull %7.2f s %8s MB/s | skopeo copy %7.2f s %8s MB/s\n' \
    "$run" "$pull_s" "$(mbps "$bytes" "$pull_s")" "$skopeo_s" "$(mbps "$bytes" "$skopeo_s")"
done
