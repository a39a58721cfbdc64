#include "mmtrain/losses/clip_loss.h"

namespace mmtrain {

torch::Tensor clip_loss(const torch::Tensor& logits_per_image, const torch::Tensor& logits_per_text,
                        int64_t offset) {
  const int64_t rows = logits_per_image.size(0);
  auto labels = torch::arange(offset, offset + rows,
                              torch::TensorOptions().dtype(torch::kLong).device(logits_per_image.device()));
  namespace F = torch::nn::functional;
  return 0.5 * (F::cross_entropy(logits_per_image.to(torch::kFloat), labels) +
                F::cross_entropy(logits_per_text.to(torch::kFloat), labels));
}

}  // namespace mmtrain
