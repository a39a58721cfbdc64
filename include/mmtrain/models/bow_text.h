// A bag-of-words text tower: the mean of the token embeddings up to and including end-of-text,
// through a small MLP. Order-blind and cheap: a baseline, and a fast text side for smoke runs.
#pragma once

#include <torch/arg.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include "mmtrain/models/tower.h"

namespace mmtrain {

// The vocabulary is the tokenizer's, as for the text transformer; the width is set by name.
struct BowTextOptions {
  BowTextOptions(int64_t vocab_size, int64_t eos_id) : vocab_size_(vocab_size), eos_id_(eos_id) {}
  TORCH_ARG(int64_t, vocab_size);
  TORCH_ARG(int64_t, eos_id);
  TORCH_ARG(int, width) = 512;  // embedding D and output D alike
};

class BowTextImpl : public TextTowerImpl {
 public:
  explicit BowTextImpl(const BowTextOptions& options);
  // [B,L] -> tokens [B,L,D] (the embeddings), pooled [B,D], pad_mask [B,L] true after end-of-text
  Encoded forward(const torch::Tensor& tokens) override;
  int width() const override { return options_.width(); }

 private:
  BowTextOptions options_;
  torch::nn::Embedding token_embedding_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(BowText);

}  // namespace mmtrain
