// What config validation reads of the registries: the built-in names, the default first.
#include "mmtrain/registered_names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mmtrain {
namespace {

using Names = std::vector<std::string>;

TEST(RegisteredNames, BuiltinsAreListedWithTheDefaultFirst) {
  register_builtins();
  EXPECT_EQ(vision_tower_types(), (Names{"vit", "resnet", "convnet"}));
  EXPECT_EQ(text_tower_types(), (Names{"transformer", "bow"}));
  EXPECT_EQ(fusion_types(), (Names{"late", "early", "cross_attention"}));
  EXPECT_EQ(loss_term_names(), (Names{"clip", "siglip", "itm", "caption", "vqa", "vqa_ce", "vqa_point", "action_l1",
                                      "action_ce", "action_point"}));
  EXPECT_EQ(head_types(), (Names{"caption", "vqa", "action"}));
}

}  // namespace
}  // namespace mmtrain
