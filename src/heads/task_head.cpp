#include "mmtrain/heads/task_head.h"

#include <mutex>

#include "mmtrain/errors.h"
#include "mmtrain/heads/action_head.h"
#include "mmtrain/heads/caption_decoder.h"
#include "mmtrain/heads/vqa_head.h"

namespace mmtrain {

Registry<HeadEntry>& head_registry() {
  static Registry<HeadEntry> registry("head");
  return registry;
}

void throw_missing_head(const std::string& what, const std::string& kind, const std::string& type) {
  throw ConfigError(what + " needs " + kind + ": set model.head.type: " + type);
}

void register_builtin_heads() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_caption_head();
    register_vqa_head();
    register_action_head();
  });
}

std::shared_ptr<TaskHeadImpl> build_head(const HeadConfig& config, MultimodalModelImpl& model, int embed_dim,
                                         const TextVocab& vocab) {
  register_builtin_heads();
  const std::string key = "model.head.type";
  const HeadEntry entry = head_registry().find(config.type, key);
  ModelNeeds fused;  // tokens come from the towers whatever the fusion; a match head does not
  fused.match_head = entry.descriptor.needs.match_head;
  const std::string unmet = unmet_needs(fused, descriptor_of(model.fusion()));
  if (!unmet.empty()) throw ConfigError(key + ": head '" + config.type + "': " + unmet);
  HeadDims dims;
  dims.image_width = model.vision().width();
  dims.text_width = model.text().width();
  dims.embed_dim = embed_dim;
  dims.fused_width = model.fusion().fused_width();
  dims.vocab = vocab;
  return entry.factory(config, dims);
}

}  // namespace mmtrain
