// Fusion descriptors: what each registered type offers, and the refusals built from them.
#include "mmtrain/models/registry.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/models/late_fusion.h"
#include "support/scoped_registration.h"

namespace mmtrain {
namespace {

TEST(ModelRegistry, EveryRegisteredFusionsDescriptorMatchesTheModuleItBuilds) {
  register_builtin_models();
  FusionConfig config;
  config.width = 16;
  config.layers = 1;
  config.heads = 2;
  for (const auto& type : fusion_types()) {
    const FusionEntry entry = fusion_registry().find(type, "model.fusion.type");
    const auto fusion = entry.factory(config, FusionDims().image_width(8).text_width(12).embed_dim(4));
    const FusionDescriptor built = descriptor_of(*fusion);
    EXPECT_EQ(entry.descriptor.has_match_head, built.has_match_head) << type;
    EXPECT_EQ(entry.descriptor.reads_tokens, built.reads_tokens) << type;
  }
}

TEST(ModelRegistry, AMissingMatchHeadNamesTheFusionTypesThatHaveOne) {
  register_builtin_models();
  ModelNeeds needs;
  needs.match_head = true;
  EXPECT_EQ(unmet_needs(needs, FusionDescriptor{}),
            "this fusion has no match head (use model.fusion.type early or cross_attention)");
  EXPECT_EQ(unmet_needs(needs, FusionDescriptor{true, true}), "");
}

TEST(ModelRegistry, MissingTokenOutputsNameTheFusionTypesThatReadTokens) {
  register_builtin_models();
  ModelNeeds needs;
  needs.vision_tokens = true;
  EXPECT_EQ(unmet_needs(needs, FusionDescriptor{}),
            "this fusion has the towers give their pooled outputs only, not every token "
            "(use model.fusion.type early or cross_attention)");
  EXPECT_EQ(unmet_needs(ModelNeeds{}, FusionDescriptor{}), "");
}

TEST(ModelRegistry, RefusalsOfferATestRegisteredFusionByItsDescriptor) {
  register_builtin_models();
  // Only its descriptor is read here; the module it builds does not matter.
  const FusionDescriptor fused{true, true};
  test::ScopedRegistration fusion(fusion_registry(), "test_fused",
                                  FusionEntry{fused, [](const FusionConfig&, const FusionDims& dims) {
                                                return std::make_shared<LateFusionImpl>(dims);
                                              }});
  ModelNeeds needs;
  needs.match_head = true;
  EXPECT_EQ(unmet_needs(needs, FusionDescriptor{}),
            "this fusion has no match head (use model.fusion.type early, cross_attention or test_fused)");
}

}  // namespace
}  // namespace mmtrain
