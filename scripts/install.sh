#!/usr/bin/env bash
# Installs what genstack needs (Debian 12 packages), builds it, and runs the
# main job: pull a model and chat with it.
#   scripts/install.sh [MODEL] [PROMPT]   # install, build, pull ai/smollm2 (or MODEL: a store
#                                         # reference or a .gguf path) and chat (a TTY) or complete PROMPT
#   scripts/install.sh --deps-only              # install packages only (Debian, and npm ci in tests/node)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake g++ pkg-config python3
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev libboost1.81-dev libboost-json1.81-dev
  libcurl4-openssl-dev libssl-dev libyaml-cpp-dev libsqlite3-dev libpq-dev
  skopeo  # the model store's interop tests
  wrk     # the gateway's overhead bench (bench/gateway)
  openssl # self-signed certificates in the TLS tests
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run the integration tests (tests/node); Debian's packages
# only where the machine has none (a NodeSource nodejs conflicts with Debian's npm).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# Daemons the tests start themselves on 127.0.0.1 (promtool from prometheus
# checks the /metrics text; docker-registry is the OCI registry of the model
# store's tests; redis-server shares the gateway's limits and cache in its
# tests, postgresql holds the gateway's keys in its tests, nginx is the
# gateway bench's baseline): installed without starting or enabling their
# services.
daemons=()
command -v promtool >/dev/null || daemons+=(prometheus)
command -v docker-registry >/dev/null || daemons+=(docker-registry)
command -v redis-server >/dev/null || daemons+=(redis-server)
[[ -x /usr/lib/postgresql/15/bin/initdb ]] || daemons+=(postgresql)
command -v nginx >/dev/null || daemons+=(nginx)
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
if ((${#missing[@]} || ${#daemons[@]})); then
  $sudo apt-get update -qq
fi
if ((${#missing[@]})); then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
if ((${#daemons[@]})); then
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    trap '$sudo rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${daemons[@]}"
  if [[ -d /run/systemd/system ]]; then
    for d in "${daemons[@]}"; do $sudo systemctl disable --now "$d.service" >/dev/null 2>&1 || true; done
  fi
fi
# The test clients (openai, ollama, ajv) as the lockfile pins them.
if [[ ! -f tests/node/node_modules/.package-lock.json ||
      tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]]; then
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
[[ "${1:-}" == "--deps-only" ]] && exit 0

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target genstack

genstack=./build/src/genstack
# The default model is Docker Hub's ai/smollm2 (pulled into ~/.genstack on
# first use); any store reference or local GGUF path works the same.
model="${1:-ai/smollm2}"
if [[ $# -eq 0 ]] && ! $genstack pull ai/smollm2; then
  model=../shared/models/stories260K.gguf
  echo "could not pull ai/smollm2 (offline?); running $model instead" >&2
fi
if [[ $# -lt 2 && -t 0 && -t 1 ]]; then
  echo "genstack run $model   (interactive chat; /bye ends it)" >&2
  exec $genstack run "$model"
fi
prompt="${2:-Once upon a time}"
echo "genstack run $model \"$prompt\"" >&2
$genstack run "$model" "$prompt" -n 64
