#include "mmtrain/heads/task_head.h"

#include "mmtrain/errors.h"

namespace mmtrain {

Registry<HeadEntry>& head_registry() {
  static Registry<HeadEntry> registry("head");
  return registry;
}

std::shared_ptr<TaskHeadImpl> build_head(const std::string& type, MultimodalModelImpl& model, int embed_dim,
                                         const std::string& key) {
  const HeadEntry entry = head_registry().find(type, key);
  const std::string unmet = unmet_needs(entry.descriptor.needs, descriptor_of(model.fusion()));
  if (!unmet.empty()) throw ConfigError(key + ": head '" + type + "': " + unmet);
  return entry.factory(
      FusionDims().image_width(model.vision().width()).text_width(model.text().width()).embed_dim(embed_dim));
}

}  // namespace mmtrain
