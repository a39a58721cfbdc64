#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest, against Debian's
# LibTorch 1.13 (build/) or, with MMTRAIN_LIBTORCH=pip, pip's LibTorch 2.x (build-pip/).
# MMTRAIN_LIBTORCH=both runs the suite against each in turn (what CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${MMTRAIN_LIBTORCH:-} == both ]]; then
  MMTRAIN_LIBTORCH=debian bash scripts/test.sh "$@"
  exec env MMTRAIN_LIBTORCH=pip bash scripts/test.sh "$@"
fi
bash scripts/setup.sh --tests
source scripts/libtorch.sh
bash scripts/build.sh
# open_clip's reference outputs for the parity tests, made here from pinned PyPI packages (once;
# kept under $HOME/.cache and build/reference, shared by both builds).
bash scripts/reference_data.sh build/reference
echo "test.sh: LibTorch ${MMTRAIN_LIBTORCH:-debian}, $build_dir"
ctest --test-dir "$build_dir" --output-on-failure --timeout 900 "$@"
