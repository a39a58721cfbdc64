// How far a tensor is from its reference, for numerical tests: the largest absolute difference
// over the reference's largest magnitude, both in double.
#pragma once

#include <torch/torch.h>

namespace mmtrain::test {

inline double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return ((got.to(torch::kDouble) - want.to(torch::kDouble)).abs().max() /
          want.to(torch::kDouble).abs().max().clamp_min(1e-30))
      .item<double>();
}

}  // namespace mmtrain::test
