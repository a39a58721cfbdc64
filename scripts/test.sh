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
if [[ ${MMTRAIN_SANITIZE:-} == thread ]]; then
  # The threaded parts: loader workers, the batch queue, WebDataset workers, data-parallel ranks.
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizers/tsan.supp}
  exec ctest --test-dir "$build_dir" --output-on-failure --timeout 1800 \
    -R '^(LoaderTest|LoaderWithBadSamples|BufferPoolTest|WebDatasetLoaderTest|WebDatasetShuffleTest|EpochOrder|DataParallel|CaptionSelection|TrainerTest)$' "$@"
elif [[ -n ${MMTRAIN_SANITIZE:-} ]]; then
  # The unit suites; the integration suites (tests/integration/: whole training runs through the
  # binary) take too long under a sanitizer and stay out. LibTorch's own start-up allocations are
  # never freed, so leak reports are off.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
  exec ctest --test-dir "$build_dir" --output-on-failure --timeout 1800 \
    -E '^(Action|Captioning|Cli|CliTest|CudaTraining|DistributedTraining|EndToEnd|OpenClipExport|OpenClipWorkflow|Vqa)$' "$@"
fi
ctest --test-dir "$build_dir" --output-on-failure --timeout 900 "$@"
# The fuzz targets' smoke run (docs/fuzzing.md), once, on the default build.
if [[ ${MMTRAIN_LIBTORCH:-debian} == debian && ${MMTRAIN_FUZZ_SECONDS:-20} != 0 ]]; then
  # A fixed seed: a finding here comes back when the same commit runs again (docs/fuzzing.md).
  MMTRAIN_FUZZ_SEED=${MMTRAIN_FUZZ_SEED:-1} bash scripts/fuzz.sh all "${MMTRAIN_FUZZ_SECONDS:-20}"
fi
