#include "mmtrain/models/zoo_fusion.h"

#include <mutex>

#include "mmtrain/models/cross_attention_fusion.h"
#include "mmtrain/models/early_fusion.h"
#include "mmtrain/models/registry.h"

namespace mmtrain {

namespace {

MatchFusionOptions match_fusion_options(const FusionConfig& c, const FusionDims& dims) {
  return MatchFusionOptions(dims).width(c.width).layers(c.layers).heads(c.heads).mlp_ratio(c.mlp_ratio);
}

template <class Impl>
FusionFactory factory_of() {
  return [](const FusionConfig& config, const FusionDims& dims) -> std::shared_ptr<FusionImpl> {
    return std::make_shared<Impl>(match_fusion_options(config, dims));
  };
}

}  // namespace

void register_zoo_fusion() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Both score aligned pairs on a joint encoding of every image and text token.
    const FusionDescriptor fused{/*has_match_head=*/true, /*reads_tokens=*/true};
    fusion_registry().add("early", {fused, factory_of<EarlyFusionImpl>()});
    fusion_registry().add("cross_attention", {fused, factory_of<CrossAttentionFusionImpl>()});
  });
}

}  // namespace mmtrain
