// Late fusion, the dual encoder of CLIP: project pooled vectors, L2-normalise, cosine similarity
// times a learnable scale (stored as its log, initialised to ln(1/0.07), clamped at 100).
#pragma once

#include "mmtrain/models/fusion.h"

namespace mmtrain {

class LateFusionImpl : public FusionImpl {
 public:
  explicit LateFusionImpl(const FusionDims& dims);
  torch::Tensor embed_image(const Encoded& image) override;
  torch::Tensor embed_text(const Encoded& text) override;
  torch::Tensor logit_scale() override;
  bool uses_tokens() const override { return false; }
  void clamp_parameters() override;
  std::vector<torch::Tensor> image_side_parameters() override { return {image_projection_}; }
  std::vector<torch::Tensor> text_side_parameters() override { return {text_projection_}; }

 private:
  torch::Tensor image_projection_;  // [D_img,E]
  torch::Tensor text_projection_;   // [D_txt,E]
  torch::Tensor log_logit_scale_;   // []
};

}  // namespace mmtrain
