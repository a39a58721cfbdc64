#include "patch_attention.h"

#include <cmath>

#include "mmtrain/ops/grid.h"

namespace mmtrain {

std::pair<torch::Tensor, torch::Tensor> patch_grid(const torch::Tensor& tokens, const char* what) {
  const int64_t count = tokens.size(1);
  auto side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(count))));
  torch::Tensor patches = tokens;
  if (side * side != count) {
    side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(count - 1))));
    TORCH_CHECK(side * side == count - 1, what, ": ", count, " image tokens do not lie on a square grid");
    patches = tokens.narrow(1, 1, count - 1);
  }
  const auto cells = grid_cells(side, torch::TensorOptions().dtype(torch::kFloat).device(tokens.device()));
  return {patches, (cells + 0.5) / static_cast<double>(side)};
}

torch::Tensor word_sum_scores(torch::nn::Linear& word_query, const Encoded& text, const torch::Tensor& keys,
                              double scale) {
  const auto words = text.tokens.to(torch::kFloat);                                       // [B,T,Dt]
  auto per_word = torch::matmul(word_query(words), keys) * scale;                         // [B,T,N]
  if (text.pad_mask.defined()) per_word = per_word.masked_fill(text.pad_mask.unsqueeze(2), 0.0);
  return per_word.sum(1);                                                                 // [B,N]
}

}  // namespace mmtrain
