#!/usr/bin/env bash
# Installs what genstack needs (Debian 12 packages), builds it, and runs the
# main job: generate text with a model.
#   scripts/install.sh [MODEL.gguf] [PROMPT]   # install, build, run
#   scripts/install.sh --deps-only              # install packages only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  prometheus  # for promtool: the metrics tests check the /metrics text with it
  build-essential cmake g++ pkg-config python3
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev libboost1.81-dev libboost-json1.81-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
[[ "${1:-}" == "--deps-only" ]] && exit 0

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target genstack

model="${1:-../shared/models/stories260K.gguf}"
prompt="${2:-Once upon a time}"
echo "genstack run $model \"$prompt\"" >&2
./build/src/genstack run "$model" "$prompt" -n 64
