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

MissingInputs MissingInputs::chunk(int64_t chunks, size_t index) const {
  MissingInputs part;
  part.images = chunk_rows(images, chunks, index);
  part.texts = chunk_rows(texts, chunks, index);
  return part;
}

void MultimodalModelImpl::add_placeholders() {
  auto placeholders = std::make_shared<torch::nn::Module>("Placeholders");
  image_placeholder_ = placeholders->register_parameter("image", torch::zeros({vision_->width()}));
  text_placeholder_ = placeholders->register_parameter("text", torch::zeros({text_->width()}));
  register_module("placeholders", placeholders);
}

namespace {

// The missing rows of a tower's output replaced by the placeholder [D].
Encoded with_placeholder(Encoded encoded, const torch::Tensor& missing, const torch::Tensor& placeholder) {
  if (!missing.defined() || !placeholder.defined()) return encoded;
  const auto stand_in = placeholder.to(encoded.pooled.dtype());
  encoded.pooled = torch::where(missing.view({-1, 1}), stand_in.expand_as(encoded.pooled), encoded.pooled);
  if (encoded.tokens.defined()) {
    encoded.tokens = torch::where(missing.view({-1, 1, 1}), stand_in.to(encoded.tokens.dtype()).expand_as(encoded.tokens),
                                  encoded.tokens);
  }
  return encoded;
}

}  // namespace

ModelOutput MultimodalModelImpl::forward(const torch::Tensor& images, const torch::Tensor& tokens,
                                         const MissingInputs& missing) {
  ModelOutput out;
  out.image = with_placeholder(encode_vision(images), missing.images, image_placeholder_);
  out.text = with_placeholder(encode_text(tokens), missing.texts, text_placeholder_);
  out.image_embeds = fusion_->embed_image(out.image);
  out.text_embeds = fusion_->embed_text(out.text);
  out.logit_scale = fusion_->logit_scale();
  out.token_ids = tokens;
  if (head_ && head_->reads_fused()) out.fused = fusion_->fused(out.image, out.text);
  return out;
}

namespace {

void freeze(std::vector<torch::Tensor> parameters) {
  for (auto& p : parameters) p.requires_grad_(false);
}

std::vector<DepthGroup> with_projection(std::vector<DepthGroup> groups, std::vector<torch::Tensor> projection) {
  if (!groups.empty() && !projection.empty()) groups.push_back({"projection", std::move(projection)});
  return groups;
}

void lock_side(torch::nn::Module& tower, std::vector<torch::Tensor> fusion_side, std::vector<DepthGroup> groups,
               int unlocked, const char* side) {
  TORCH_CHECK(unlocked == 0 || !groups.empty(), "the ", side, " tower has no depth groups to leave unlocked");
  freeze(tower.parameters());
  freeze(std::move(fusion_side));
  unlock_top_groups(groups, unlocked);
}

}  // namespace

std::vector<DepthGroup> MultimodalModelImpl::vision_depth_groups() {
  return with_projection(vision_->depth_groups(), fusion_->image_side_parameters());
}

std::vector<DepthGroup> MultimodalModelImpl::text_depth_groups() {
  return with_projection(text_->depth_groups(), fusion_->text_side_parameters());
}

void MultimodalModelImpl::lock_vision(int unlocked) {
  lock_side(*vision_, fusion_->image_side_parameters(), vision_depth_groups(), unlocked, "vision");
}

void MultimodalModelImpl::lock_text(int unlocked) {
  lock_side(*text_, fusion_->text_side_parameters(), text_depth_groups(), unlocked, "text");
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
