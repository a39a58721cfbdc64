#include "mmtrain/models/zoo_towers.h"

#include "mmtrain/models/bow_text.h"
#include "mmtrain/models/convnet.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/models/resnet.h"

namespace mmtrain {

namespace {

// CLIP's ratio of embedding to stem width (RN50: 1024 / 64), so model.vision.width: 64 with
// heads: 32 is RN50's tower.
constexpr int kResNetOutputPerWidth = 16;

std::shared_ptr<VisionTowerImpl> make_resnet(const VisionConfig& c) {
  return std::make_shared<ResNetImpl>(ResNetOptions(c.image_size)
                                          .width(c.width)
                                          .stage_layers(c.stage_layers)
                                          .heads(c.heads)
                                          .output_dim(c.width * kResNetOutputPerWidth));
}

std::shared_ptr<VisionTowerImpl> make_convnet(const VisionConfig& c) {
  return std::make_shared<ConvNetImpl>(
      ConvNetOptions(c.image_size)
          .width(c.width)
          .layers(c.layers)
          .output_width(c.output_width)
          .position_code(c.position == "sincos"));
}

std::shared_ptr<TextTowerImpl> make_bow(const TextConfig& c, const TextVocab& vocab) {
  return std::make_shared<BowTextImpl>(BowTextOptions(vocab.vocab_size, vocab.eos_id).width(c.width));
}

}  // namespace

void register_zoo_towers() {
  vision_tower_registry().add("resnet", make_resnet);
  vision_tower_registry().add("convnet", make_convnet);
  text_tower_registry().add("bow", make_bow);
}

}  // namespace mmtrain
