#include "mmtrain/losses/siglip_loss.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/normalization.h>

#include "mmtrain/losses/loss_term.h"
#include "mmtrain/ops/full_precision.h"

namespace mmtrain {

namespace {

namespace F = torch::nn::functional;

// Their names are the checkpoint's keys (under loss.): renaming one orphans saved runs.
const char* const kLogScale = "siglip_log_scale";
const char* const kBias = "siglip_bias";

// bf16/fp16 inputs are widened: log sigmoid of logits near the -10 bias needs the mantissa.
torch::Tensor unit_rows(const torch::Tensor& embeds, torch::ScalarType dtype) {
  return F::normalize(embeds.to(dtype), F::NormalizeFuncOptions().p(2).dim(1));
}

// [B,B]: +1 for the matching pair, -1 for every other pair.
torch::Tensor pair_signs(int64_t batch, const torch::TensorOptions& options) {
  return 2.0 * torch::eye(batch, options) - 1.0;
}

}  // namespace

torch::Tensor siglip_loss(const torch::Tensor& image_embeds, const torch::Tensor& text_embeds,
                          const torch::Tensor& log_scale, const torch::Tensor& bias) {
  TORCH_CHECK(image_embeds.dim() == 2 && text_embeds.dim() == 2, "siglip_loss: embeddings must be [B,E]");
  TORCH_CHECK(image_embeds.sizes() == text_embeds.sizes(), "siglip_loss: image ", image_embeds.sizes(),
              " and text ", text_embeds.sizes(), " embeddings differ in shape");
  TORCH_CHECK(log_scale.numel() == 1 && bias.numel() == 1, "siglip_loss: log_scale and bias must be scalars");
  const auto dtype = c10::promoteTypes(image_embeds.scalar_type(), torch::kFloat);
  const int64_t batch = image_embeds.size(0);

  auto x = unit_rows(image_embeds, dtype);                                                   // [B,E]
  auto y = unit_rows(text_embeds, dtype);                                                    // [B,E]
  auto scale = log_scale.to(dtype).reshape({}).exp();                                        // []
  auto logits = scale * torch::matmul(x, y.t()) + bias.to(dtype).reshape({});               // [B,B]
  auto signs = pair_signs(batch, logits.options());                                          // [B,B]
  // Dividing by B rather than B^2 follows the paper: the loss is per image, summed over texts.
  return -F::logsigmoid(signs * logits).sum() / static_cast<double>(batch);
}

namespace {

torch::Tensor siglip_term(const LossTermInputs& in) {
  FullPrecisionScope fp32;
  return siglip_loss(in.output.image_embeds, in.output.text_embeds, in.learned(kLogScale), in.learned(kBias));
}

}  // namespace

void register_siglip_term() {
  LossTermDescriptor descriptor;
  descriptor.learned_scalars = {{kLogScale, kSiglipInitLogScale}, {kBias, kSiglipInitBias}};
  loss_term_registry().add("siglip", {descriptor, siglip_term});
}

}  // namespace mmtrain
