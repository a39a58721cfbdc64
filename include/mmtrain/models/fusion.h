// Fusion: from the two towers' Encoded outputs to what training and evaluation need. Every fusion
// gives dual-encoder embeddings (contrastive loss, retrieval, zero-shot); fused types also give a
// match score for aligned pairs (image-text matching, re-ranking).
#pragma once

#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>

#include "mmtrain/models/encoded.h"

namespace mmtrain {

// All three are required, and all three are ints: set by name, so that the two towers' widths
// cannot trade places; one left unset stays 0, which the fusions refuse.
struct FusionDims {
  TORCH_ARG(int, image_width) = 0;  // vision tower's D
  TORCH_ARG(int, text_width) = 0;   // text tower's D
  TORCH_ARG(int, embed_dim) = 0;    // shared embedding space
};

class FusionImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor embed_image(const Encoded& image) = 0;  // -> [B,E] L2-normalised
  virtual torch::Tensor embed_text(const Encoded& text) = 0;    // -> [B,E] L2-normalised
  virtual torch::Tensor logit_scale() = 0;  // scalar multiplier in use (e.g. 14.3, not its log)
  // False when embed_image and embed_text read only Encoded::pooled: the towers may then give
  // nothing else (forward_pooled).
  virtual bool uses_tokens() const { return true; }
  // Match logits of aligned pairs: image i with text i -> [B]. Only fused types have one.
  virtual bool has_match() const { return false; }
  virtual torch::Tensor match(const Encoded& image, const Encoded& text);
  // The joint representation of aligned pairs, what the match head scores: [B,fused_width()]
  // after the fusion's final norm. Task heads over (image, text) pairs (VQA) read it. Fused types only.
  virtual torch::Tensor fused(const Encoded& image, const Encoded& text);
  virtual int fused_width() const { return 0; }
  // The fusion's parameters that belong to one tower's side (its projection): locking a tower
  // (LiT) freezes them with it.
  virtual std::vector<torch::Tensor> image_side_parameters() { return {}; }
  virtual std::vector<torch::Tensor> text_side_parameters() { return {}; }
  // Keeps learned scalars in range after each optimizer step.
  virtual void clamp_parameters() {}
};

}  // namespace mmtrain
