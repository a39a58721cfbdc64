// What every tower returns, so that any fusion can take any pair of towers.
#pragma once

#include <torch/types.h>

namespace mmtrain {

struct Encoded {
  torch::Tensor tokens;    // [B,T,D] every position after the tower's final norm
  torch::Tensor pooled;    // [B,D]   the tower's summary (class token, mean, end-of-text token)
  torch::Tensor pad_mask;  // [B,T]   bool, true at padding (text towers only; undefined otherwise)
};

}  // namespace mmtrain
