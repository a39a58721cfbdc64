// CUDA tests skip, saying why, where LibTorch sees no CUDA device (CI, Debian's CPU-only build);
// scripts/gpu_check.sh runs them on a GPU machine.
#pragma once

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <string>

#include "mmtrain/runtime/libtorch_compat.h"

namespace mmtrain::test {

inline std::string no_cuda_reason() {
  return "no CUDA device here (LibTorch " + compat::libtorch_version() +
         "); CUDA tests run on a GPU machine, through scripts/gpu_check.sh";
}

}  // namespace mmtrain::test

#define MMTRAIN_SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << ::mmtrain::test::no_cuda_reason()
