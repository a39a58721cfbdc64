// How closely FusedAdamW's parameters must agree with LibTorch's AdamW. LibTorch 1.13's CPU
// kernels round every operation as IEEE does, and FusedAdamW repeats their order: bit for bit.
// LibTorch 2.x's vectorised CPU sqrt is not correctly rounded (measured on 2.11: 1 in 6 float
// square roots one ulp off IEEE's, which FusedAdamW keeps), so there it is 1e-6 relative.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "mmtrain/runtime/libtorch_compat.h"
#include "support/relative_error.h"

namespace mmtrain::test {

inline void expect_adamw_parameters_agree(const torch::Tensor& ours, const torch::Tensor& libtorch,
                                          const std::string& what) {
#if MMTRAIN_LIBTORCH_2
  EXPECT_LT(relative_error(ours, libtorch), 1e-6) << what;
#else
  EXPECT_TRUE(torch::equal(ours, libtorch)) << what << " differs by up to " << (ours - libtorch).abs().max().item<float>();
#endif
}

}  // namespace mmtrain::test
