#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/, docs/fuzzing.md) with clang's libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer, replays every committed regression input, then fuzzes each target for
# SECONDS from its committed seeds (fuzz/corpus/TARGET) and its growing corpus (build-fuzz/corpus/).
# usage: scripts/fuzz.sh [TARGET|all] [SECONDS]   (default: all, 60 s each; CI runs 20 s each)
# MMTRAIN_FUZZ_SEED=N fixes libFuzzer's seed (CI's smoke: 1); unset, each run draws its own.
# A finding stops the run with its input under build-fuzz/findings/ and exit status 1; turn it into
# a regression input (fuzz/regressions/TARGET/) once fixed. Prints executions and coverage per target.
set -euo pipefail
cd "$(dirname "$0")/.."
targets_wanted=${1:-all}
seconds=${2:-60}
all_targets=(config csv jsonl coco tar checkpoint safetensors torch_pickle clip_bpe image)
if [[ $targets_wanted == all ]]; then targets=("${all_targets[@]}"); else targets=("$targets_wanted"); fi

bash scripts/setup.sh --tests
export MMTRAIN_LIBTORCH=debian
bash scripts/build.sh mmtrain_core mmtrain_kernels
[[ -f build/reference/bpe_simple_vocab_16e6.txt.gz ]] || bash scripts/reference_data.sh build/reference
cmake -S fuzz -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_CXX_COMPILER=clang++-14 -DMMTRAIN_BUILD_DIR="$PWD/build" >/dev/null
cmake --build build-fuzz -j"$(nproc)" $(printf -- '--target %s_fuzz ' "${targets[@]}")

export MMTRAIN_FUZZ_CLIP_VOCAB=$PWD/build/reference/bpe_simple_vocab_16e6.txt.gz
# LibTorch's own allocator and OpenMP threads are not what is under test; keep them quiet and small.
export OMP_NUM_THREADS=1 ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
mkdir -p build-fuzz/findings
summary=()
for target in "${targets[@]}"; do
  binary=build-fuzz/${target}_fuzz
  if [[ -d fuzz/regressions/$target ]] && compgen -G "fuzz/regressions/$target/*" >/dev/null; then
    "$binary" -rss_limit_mb=2048 -malloc_limit_mb=1024 fuzz/regressions/"$target"/* 2>build-fuzz/"$target"-regressions.log ||
      { tail -30 build-fuzz/"$target"-regressions.log; echo "fuzz.sh: $target: a regression input fails again" >&2; exit 1; }
  fi
  mkdir -p build-fuzz/corpus/"$target"
  seeds=() max_len=65536
  [[ -d fuzz/corpus/$target ]] && seeds+=(fuzz/corpus/"$target")
  # The checkpoints the tests read are the seeds, as they are (about 400 KB each).
  [[ $target == checkpoint ]] && seeds+=(tests/fixtures/checkpoints) max_len=524288
  log=build-fuzz/$target.log
  if ! "$binary" -max_total_time="$seconds" ${MMTRAIN_FUZZ_SEED:+-seed="$MMTRAIN_FUZZ_SEED"} -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=$max_len \
      -print_final_stats=1 -artifact_prefix=build-fuzz/findings/"$target"- \
      build-fuzz/corpus/"$target" "${seeds[@]}" >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz.sh: $target: finding kept in build-fuzz/findings/ (log: $log)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  features=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  summary+=("$(printf '%-13s %10s executions  coverage %6s edges  %6s features' "$target" "$runs" "$cov" "$features")")
done
echo "fuzz.sh: ${seconds} s per target, no findings"
printf '%s\n' "${summary[@]}"
