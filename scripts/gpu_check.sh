#!/usr/bin/env bash
# The GPU check: run on the GPU machine (one NVIDIA GPU, torch 2.x+cuXXX in its python3, cmake,
# g++; no apt) from the project root. Builds mmtrain against that machine's torch into build-gpu/,
# runs the CUDA tests (tests/cuda/, tests/integration/cuda_training_test.cpp) and a short bench of
# configs/vit_b32.yaml in bf16 through the real loader, and prints a summary. Meant to finish in
# under 8 minutes.
#
#   bash scripts/gpu_check.sh [--no-build]
#
# What that machine lacks (OpenCV, PCRE2, libarchive, libjpeg-turbo, Gloo's headers) comes from
# gpu-deps.tar.xz, Debian's files packed on the development machine by scripts/gpu_deps.sh and
# carried along (the device tool's `carry: ["gpu-deps.tar.xz"]`); it is unpacked into gpu-deps/.
# Without it, the machine's own copies are used. Exit status: 0 all passed, 1 a step failed.
set -uo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
summary=()
say() { echo "gpu_check: $*"; }
step_result() { summary+=("$1: $2"); say "$1: $2"; }

prefix=$(python3 -W ignore -c 'import torch;print(torch.utils.cmake_prefix_path)') || { say "python3 has no torch"; exit 1; }
torch_lib=$(python3 -W ignore -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')
say "torch $(python3 -W ignore -c 'import torch;print(torch.__version__, torch.version.cuda)'), $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | head -1)"

deps="$(pwd)/gpu-deps"
if [[ -f gpu-deps.tar.xz && ! -d $deps ]]; then
  mkdir -p "$deps" && tar -C "$deps" -xJf gpu-deps.tar.xz || { say "cannot unpack gpu-deps.tar.xz"; exit 1; }
  sed -i "s|^prefix=/usr\$|prefix=$deps|; s|^exec_prefix=/usr\$|exec_prefix=$deps|; s|=/usr/|=$deps/|" \
    "$deps"/lib/x86_64-linux-gnu/pkgconfig/*.pc
fi
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DMMTRAIN_LIBTORCH=pip "-DMMTRAIN_TORCH_PREFIX=$prefix"
            -DMMTRAIN_REFERENCE_DATA="$(pwd)/build/reference")
if [[ -d $deps ]]; then
  lib="$deps/lib/x86_64-linux-gnu"
  export PKG_CONFIG_PATH="$lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  # Gloo's headers come from here too; -isystem in the flags is searched after LibTorch's folders.
  # The binaries find the carried libraries through their RPATH, so nothing else sees them.
  cmake_args+=("-DOpenCV_DIR=$lib/cmake/opencv4" "-DCMAKE_CXX_FLAGS=-isystem $deps/include"
               "-DCMAKE_BUILD_RPATH=$lib" "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath-link,$lib"
               "-DCMAKE_SHARED_LINKER_FLAGS=-Wl,-rpath-link,$lib")
fi
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

if [[ ${1:-} != --no-build ]]; then
  if cmake -S . -B build-gpu -G Ninja "${cmake_args[@]}" >build-gpu.log 2>&1 &&
     cmake --build build-gpu -j"$(nproc)" >>build-gpu.log 2>&1; then
    step_result build "ok in $(( $(date +%s) - started )) s"
  else
    tail -30 build-gpu.log
    step_result build "FAILED (build-gpu.log)"
    printf '%s\n' "${summary[@]}"
    exit 1
  fi
fi

status=0
if ctest --test-dir build-gpu -R 'Cuda|FusedAdamW' --output-on-failure --timeout 300 >ctest-gpu.log 2>&1; then
  step_result "CUDA tests" "$(grep -E 'tests passed' ctest-gpu.log)"
else
  tail -40 ctest-gpu.log
  step_result "CUDA tests" "FAILED (ctest-gpu.log)"
  status=1
fi
if grep -q "Skipped" ctest-gpu.log; then step_result "CUDA tests" "some SKIPPED: no GPU seen by LibTorch"; status=1; fi

# The bench: ViT-B-32 shape, bf16, batch 512: on synthetic tensors already on the GPU (the model
# alone), then through the real loader on 224 px JPEGs of the built-in data.
mmtrain=build-gpu/mmtrain
[[ -f data/synth224/train.csv ]] || $mmtrain data synth --out data/synth224 --image-size 224 --image-format jpg --n 4096 >/dev/null
bench() {  # name, extra options
  local out
  if out=$($mmtrain bench train -c configs/vit_b32.yaml --steps 20 --set data.train.path=data/synth224/train.csv \
             --set tokenizer.vocab_size=1000 --set data.workers="$(nproc)" "${@:2}" 2>&1); then
    step_result "$1" "$(echo "$out" | grep -E 'step time|peak|samples/s' | tr '\n' ' ')"
  else
    echo "$out" | tail -20
    step_result "$1" FAILED
    status=1
  fi
}
bench "vit_b32 bf16 batch 512, synthetic tensors" --synthetic
bench "vit_b32 bf16 batch 512, loader (JPEG)"
bench "vit_b32 fp32 batch 256, synthetic tensors" --synthetic --set train.batch_size=256 --set train.precision=fp32

say "summary ($(( $(date +%s) - started )) s, $(date -u +%F), $(hostname)):"
printf '  %s\n' "${summary[@]}"
exit $status
