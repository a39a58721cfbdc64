#!/usr/bin/env bash
# Configures and builds mmtrain (Release) into build/ (build-pip/ with MMTRAIN_LIBTORCH=pip; see
# scripts/libtorch.sh).
# usage: scripts/build.sh [TARGET...]   (default: everything, tests included; `mmtrain` for the
# binary alone, as the demo needs)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/libtorch.sh
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "${cmake_libtorch_args[@]}" >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build "$build_dir" -j"$(nproc)" "${targets[@]}"
