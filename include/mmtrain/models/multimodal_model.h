// A vision tower, a text tower and a fusion module: the model that training, evaluation and
// embedding all drive. Task heads (captioning, VQA, actions) attach to the same Encoded outputs.
#pragma once

#include <memory>

#include "mmtrain/models/fusion.h"
#include "mmtrain/models/tower.h"

namespace mmtrain {

struct ModelOutput {
  Encoded image;
  Encoded text;
  torch::Tensor image_embeds;  // [B,E] L2-normalised
  torch::Tensor text_embeds;   // [B,E] L2-normalised
  torch::Tensor logit_scale;   // []
};

class MultimodalModelImpl : public torch::nn::Module {
 public:
  MultimodalModelImpl(std::shared_ptr<VisionTowerImpl> vision, std::shared_ptr<TextTowerImpl> text,
                      std::shared_ptr<FusionImpl> fusion);
  // images [B,3,H,W], tokens [B,L] -> embeddings of both
  ModelOutput forward(const torch::Tensor& images, const torch::Tensor& tokens);
  torch::Tensor encode_images(const torch::Tensor& images);  // -> [B,E] L2-normalised
  torch::Tensor encode_texts(const torch::Tensor& tokens);   // -> [B,E] L2-normalised
  // A tower's output: all of Encoded when `all_tokens` or when the fusion reads tokens, else the
  // pooled summary alone (forward_pooled: a lighter last block).
  Encoded encode_vision(const torch::Tensor& images, bool all_tokens = false);
  Encoded encode_text(const torch::Tensor& tokens, bool all_tokens = false);

  // Freezes a tower and its side of the fusion (requires_grad false): LiT-style fine-tuning.
  void lock_vision();
  void lock_text();

  VisionTowerImpl& vision() { return *vision_; }
  TextTowerImpl& text() { return *text_; }
  FusionImpl& fusion() { return *fusion_; }

 private:
  std::shared_ptr<VisionTowerImpl> vision_;
  std::shared_ptr<TextTowerImpl> text_;
  std::shared_ptr<FusionImpl> fusion_;
};
TORCH_MODULE(MultimodalModel);

}  // namespace mmtrain
