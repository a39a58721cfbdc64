#include "mmtrain/heads/action_head.h"

#include <cmath>

#include <torch/nn/functional/activation.h>

#include "mmtrain/errors.h"
#include "mmtrain/ops/full_precision.h"
#include "patch_attention.h"

namespace mmtrain {

ActionHeadImpl::ActionHeadImpl(const HeadConfig& config, const HeadDims& dims)
    : chunk_(config.chunk),
      action_dims_(config.action_dims),
      state_dims_(config.state_dims),
      bins_(config.bins),
      image_width_(dims.image_width),
      point_words_(config.point == "words") {
  TORCH_CHECK(dims.fused_width > 0, "action head: the fusion gives no joint representation (use a fused type)");
  TORCH_CHECK(action_dims_ > 0, "action head: model.head.action_dims is not known (train on data type episodes)");
  const int64_t joint = dims.fused_width + state_dims_;
  const int64_t hidden = config.hidden > 0 ? config.hidden : 2 * static_cast<int64_t>(dims.fused_width);
  query_ = register_module("query", torch::nn::Linear(joint, kKeypoints * image_width_));
  key_ = register_module("key", torch::nn::Linear(image_width_, image_width_));
  if (point_words_) {
    TORCH_CHECK(dims.text_width > 0, "action head: model.head.point words needs a text tower with tokens");
    word_query_ = register_module("word_query", torch::nn::Linear(dims.text_width, image_width_));
  }
  fc1_ = register_module("fc1", torch::nn::Linear(joint + kKeypoints * (2 + image_width_), hidden));
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
  fc2_ = register_module("fc2", torch::nn::Linear(hidden, hidden));
  out_ = register_module("out", torch::nn::Linear(hidden, chunk_ * action_dims_ * std::max<int64_t>(1, bins_)));
}

ActionHeadImpl::Attention ActionHeadImpl::attention(const torch::Tensor& query_input, const ModelOutput& output) {
  auto [patches, grid] = patch_grid(output.image.tokens.to(torch::kFloat), "action head");  // [B,N,D], [N,2]
  const int64_t rows = query_input.size(0);
  const double scale = 1.0 / std::sqrt(static_cast<double>(image_width_));
  const auto keys = key_(patches).transpose(1, 2);                                               // [B,D,N]
  const auto queries = query_(query_input).view({rows, kKeypoints, image_width_});               // [B,K,D]
  auto scores = torch::matmul(queries, keys) * scale;                                             // [B,K,N]
  if (point_words_) {
    TORCH_CHECK(output.text.tokens.defined(), "action head: model.head.point words: the model gave no text tokens");
    const auto per_word = word_sum_scores(word_query_, output.text, keys, scale).unsqueeze(1);   // [B,1,N]
    scores = torch::cat({per_word, scores.narrow(1, 1, kKeypoints - 1)}, 1);
  }
  return {std::move(scores), std::move(patches), std::move(grid)};
}

torch::Tensor ActionHeadImpl::attend(const torch::Tensor& query_input, const ModelOutput& output) {
  const Attention looked = attention(query_input, output);
  const auto weights = torch::softmax(looked.scores, -1);                                         // [B,K,N]
  const auto positions = torch::matmul(weights, looked.grid);                                     // [B,K,2]
  const auto features = torch::matmul(weights, looked.patches);                                   // [B,K,D]
  return torch::cat({positions, features}, -1);                                                   // [B,K,2+D]
}

torch::Tensor ActionHeadImpl::joint(const ModelOutput& output) const {
  TORCH_CHECK(output.fused.defined(), "action head: the model gave no joint representation");
  TORCH_CHECK(output.image.tokens.defined(), "action head: the model gave no image tokens");
  const auto& state = output.task.state;
  TORCH_CHECK(state_dims_ == 0 || (state.defined() && state.dim() == 2 && state.size(1) == state_dims_),
              "action head: expected the proprioception [B,", state_dims_, "]");
  auto joint = output.fused.to(torch::kFloat);                                           // [B,W]
  if (state_dims_ > 0) joint = torch::cat({joint, state.to(torch::kFloat)}, 1);          // [B,W+P]
  return joint;
}

torch::Tensor ActionHeadImpl::forward(const ModelOutput& output) {
  namespace F = torch::nn::functional;
  // A few small matrices: fp32 throughout, like every logit.
  FullPrecisionScope fp32;
  const auto x0 = joint(output);                                                         // [B,W+P]
  const int64_t rows = x0.size(0);
  const auto looked = attend(x0, output).reshape({rows, -1});               // [B,K*(2+D)]
  const auto x = torch::cat({x0, looked}, 1);
  const auto h = F::gelu(fc2_(F::gelu(norm_(fc1_(x)))));                                 // [B,H]
  if (bins_ == 0) return out_(h).view({rows, chunk_, action_dims_});                     // [B,T,A]
  return out_(h).view({rows, chunk_, action_dims_, bins_});                              // [B,T,A,bins]
}

torch::Tensor ActionHeadImpl::pointing_logits(const ModelOutput& output) {
  FullPrecisionScope fp32;
  return attention(joint(output), output).scores.select(1, 0);              // [B,N]
}

torch::Tensor ActionHeadImpl::predict(const ModelOutput& output) {
  const auto y = forward(output);
  if (bins_ == 0) return y.clamp(-1.0, 1.0);
  // Bin b's centre in [-1,1]: (b + 0.5) / bins * 2 - 1 (ActionSpace::bin_centre).
  return (y.argmax(-1).to(torch::kFloat) + 0.5) / static_cast<double>(bins_) * 2.0 - 1.0;
}

ActionHeadImpl& action_head_of(MultimodalModelImpl& model, const std::string& what) {
  return head_of<ActionHeadImpl>(model, what, "an action head", "action");
}

void register_action_head() {
  HeadDescriptor descriptor;
  descriptor.needs.match_head = true;  // the fused types' joint representation
  descriptor.actions = true;
  register_head<ActionHeadImpl>("action", descriptor);
}

}  // namespace mmtrain
