#include "mmtrain/models/multimodal_model.h"

namespace mmtrain {

MultimodalModelImpl::MultimodalModelImpl(std::shared_ptr<VisionTowerImpl> vision,
                                         std::shared_ptr<TextTowerImpl> text,
                                         std::shared_ptr<FusionImpl> fusion)
    : vision_(register_module("vision", std::move(vision))),
      text_(register_module("text", std::move(text))),
      fusion_(register_module("fusion", std::move(fusion))) {}

ModelOutput MultimodalModelImpl::forward(const torch::Tensor& images, const torch::Tensor& tokens) {
  ModelOutput out;
  if (fusion_->uses_tokens()) {
    out.image = vision_->forward(images);
    out.text = text_->forward(tokens);
  } else {
    out.image.pooled = vision_->forward_pooled(images);
    out.text.pooled = text_->forward_pooled(tokens);
  }
  out.image_embeds = fusion_->embed_image(out.image);
  out.text_embeds = fusion_->embed_text(out.text);
  out.logit_scale = fusion_->logit_scale();
  return out;
}

namespace {
void freeze(std::vector<torch::Tensor> parameters) {
  for (auto& p : parameters) p.requires_grad_(false);
}
}  // namespace

void MultimodalModelImpl::lock_vision() {
  freeze(vision_->parameters());
  freeze(fusion_->image_side_parameters());
}

void MultimodalModelImpl::lock_text() {
  freeze(text_->parameters());
  freeze(fusion_->text_side_parameters());
}

torch::Tensor MultimodalModelImpl::encode_images(const torch::Tensor& images) {
  return fusion_->embed_image(vision_->forward(images));
}

torch::Tensor MultimodalModelImpl::encode_texts(const torch::Tensor& tokens) {
  return fusion_->embed_text(text_->forward(tokens));
}

}  // namespace mmtrain
