#include "mmtrain/models/multimodal_model.h"

namespace mmtrain {

MultimodalModelImpl::MultimodalModelImpl(std::shared_ptr<VisionTowerImpl> vision,
                                         std::shared_ptr<TextTowerImpl> text,
                                         std::shared_ptr<FusionImpl> fusion)
    : vision_(register_module("vision", std::move(vision))),
      text_(register_module("text", std::move(text))),
      fusion_(register_module("fusion", std::move(fusion))) {}

void MultimodalModelImpl::attach_head(std::shared_ptr<TaskHeadImpl> head) {
  head_ = register_module("head", std::move(head));
}

ModelOutput MultimodalModelImpl::forward(const torch::Tensor& images, const torch::Tensor& tokens) {
  ModelOutput out;
  out.image = encode_vision(images);
  out.text = encode_text(tokens);
  out.image_embeds = fusion_->embed_image(out.image);
  out.text_embeds = fusion_->embed_text(out.text);
  out.logit_scale = fusion_->logit_scale();
  out.token_ids = tokens;
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
  return fusion_->embed_image(encode_vision(images));
}

torch::Tensor MultimodalModelImpl::encode_texts(const torch::Tensor& tokens) {
  return fusion_->embed_text(encode_text(tokens));
}

namespace {

template <typename Tower>
Encoded encode_with(Tower& tower, const torch::Tensor& input, bool all_tokens) {
  return all_tokens ? tower.forward(input) : Encoded{{}, tower.forward_pooled(input), {}};
}

}  // namespace

Encoded MultimodalModelImpl::encode_vision(const torch::Tensor& images, bool all_tokens) {
  return encode_with(*vision_, images, all_tokens || reads_tokens());
}

Encoded MultimodalModelImpl::encode_text(const torch::Tensor& tokens, bool all_tokens) {
  return encode_with(*text_, tokens, all_tokens || reads_tokens());
}

}  // namespace mmtrain
