#!/usr/bin/env bash
# Configures and builds mmtrain (Release) into build/.
# usage: scripts/build.sh [TARGET...]   (default: everything, tests included; `mmtrain` for the
# binary alone, as the demo needs)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build build -j"$(nproc)" "${targets[@]}"
