#include "mmtrain/heads/vqa_head.h"

#include <cmath>

#include <torch/nn/functional/activation.h>

#include "mmtrain/errors.h"
#include "mmtrain/ops/full_precision.h"
#include "patch_attention.h"

namespace mmtrain {

VqaClassifierImpl::VqaClassifierImpl(const HeadConfig& config, const HeadDims& dims)
    : answers_(config.answers),
      image_width_(dims.image_width),
      types_(config.answer_types),
      pad_id_(dims.vocab.pad_id),
      point_words_(config.point == "words") {
  TORCH_CHECK(dims.fused_width > 0, "vqa head: the fusion gives no joint representation (use a fused type)");
  const int64_t hidden = 2 * static_cast<int64_t>(dims.fused_width);
  int64_t input = dims.fused_width;
  if (point_words_) {
    TORCH_CHECK(dims.text_width > 0, "vqa head: model.head.point words needs a text tower with tokens");
    key_ = register_module("key", torch::nn::Linear(image_width_, image_width_));
    word_query_ = register_module("word_query", torch::nn::Linear(dims.text_width, image_width_));
    input += 2 + image_width_;
  }
  if (types_ > 0) {
    TORCH_CHECK(dims.vocab.vocab_size > 0, "vqa head: model.head.answer_types needs a text tower with a vocabulary");
    type_words_ = register_module("type_words", torch::nn::Embedding(dims.vocab.vocab_size, types_));
    // Every type equally likely until the words say otherwise.
    torch::NoGradGuard no_grad;
    type_words_->weight.zero_();
    type_answers_ = register_buffer("type_answers", torch::zeros({types_, answers_}));
  }
  fc1_ = register_module("fc1", torch::nn::Linear(input, hidden));
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
  fc2_ = register_module("fc2", torch::nn::Linear(hidden, answers_));
}

torch::Tensor VqaClassifierImpl::word_scores(const torch::Tensor& patches, const ModelOutput& output) {
  TORCH_CHECK(output.text.tokens.defined(), "vqa head: model.head.point words: the model gave no text tokens");
  const auto keys = key_(patches).transpose(1, 2);                                          // [B,D,N]
  return word_sum_scores(word_query_, output.text, keys, 1.0 / std::sqrt(static_cast<double>(image_width_)));
}

torch::Tensor VqaClassifierImpl::pointing_logits(const ModelOutput& output) {
  TORCH_CHECK(point_words_, "vqa head: pointing needs model.head.point words");
  TORCH_CHECK(output.image.tokens.defined(), "vqa head: model.head.point words: the model gave no image tokens");
  FullPrecisionScope fp32;
  return word_scores(patch_grid(output.image.tokens.to(torch::kFloat), "vqa head").first, output);  // [B,N]
}

torch::Tensor VqaClassifierImpl::pointed(const ModelOutput& output) {
  TORCH_CHECK(output.image.tokens.defined(), "vqa head: model.head.point words: the model gave no image tokens");
  auto [patches, grid] = patch_grid(output.image.tokens.to(torch::kFloat), "vqa head");      // [B,N,D], [N,2]
  const auto weights = torch::softmax(word_scores(patches, output), -1).unsqueeze(1);       // [B,1,N]
  const auto position = torch::matmul(weights, grid).squeeze(1);                            // [B,2]
  const auto features = torch::matmul(weights, patches).squeeze(1);                         // [B,D]
  return torch::cat({position, features}, 1);                                               // [B,2+D]
}

torch::Tensor VqaClassifierImpl::forward(const ModelOutput& output) {
  TORCH_CHECK(output.fused.defined(), "vqa head: the model gave no joint representation");
  // A few small matrices: fp32 throughout, like every logit.
  FullPrecisionScope fp32;
  auto x = output.fused.to(torch::kFloat);                                // [B,W]
  if (point_words_) x = torch::cat({x, pointed(output)}, 1);              // [B,W+2+D]
  const auto h = torch::nn::functional::gelu(norm_(fc1_(x)));             // [B,2W]
  const auto logits = fc2_(h);                                            // [B,A]
  return types_ > 0 ? typed(logits, output) : logits;
}

torch::Tensor VqaClassifierImpl::typed(const torch::Tensor& logits, const ModelOutput& output) {
  TORCH_CHECK(output.token_ids.defined(), "vqa head: model.head.answer_types: the model gave no token ids");
  // A large finite score rather than -inf: a type without answers would make its softmax NaN.
  constexpr double kLeftOut = -1e9;
  const auto members = type_answers_.gt(0);                                                  // [N,A]
  const auto words = output.token_ids.ne(pad_id_).unsqueeze(2).to(torch::kFloat);           // [B,L,1]
  const auto type_scores = (type_words_(output.token_ids) * words).sum(1);                  // [B,N]
  const auto log_type = torch::log_softmax(type_scores.masked_fill(members.any(1).logical_not(), kLeftOut), 1);
  const auto within = torch::log_softmax(logits.unsqueeze(1).masked_fill(members.logical_not(), kLeftOut), 2);
  return torch::logsumexp(log_type.unsqueeze(2) + within, 1);                               // [B,N,A] -> [B,A]
}

void VqaClassifierImpl::set_answer_types(const std::vector<std::vector<int64_t>>& answers_by_type) {
  TORCH_CHECK(types_ > 0, "vqa head: answer types need model.head.answer_types");
  TORCH_CHECK(static_cast<int64_t>(answers_by_type.size()) <= types_, "vqa head: ", answers_by_type.size(),
              " answer types for model.head.answer_types ", types_);
  auto members = torch::zeros({types_, answers_});
  for (size_t t = 0; t < answers_by_type.size(); ++t) {
    for (const int64_t answer : answers_by_type[t]) {
      TORCH_CHECK(answer >= 0 && answer < answers_, "vqa head: answer ", answer, " of ", answers_, " outputs");
      members[static_cast<int64_t>(t)][answer] = 1.0f;
    }
  }
  torch::NoGradGuard no_grad;
  type_answers_.copy_(members);
}

VqaClassifierImpl& vqa_head_of(MultimodalModelImpl& model, const std::string& what) {
  return head_of<VqaClassifierImpl>(model, what, "a VQA head", "vqa");
}

void register_vqa_head() {
  HeadDescriptor descriptor;
  descriptor.needs.match_head = true;  // the fused types' joint representation
  descriptor.answers = true;
  register_head<VqaClassifierImpl>("vqa", descriptor);
}

}  // namespace mmtrain
