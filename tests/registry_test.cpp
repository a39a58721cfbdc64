// The name-to-entry table every choice by name goes through (towers, fusions, loss terms, heads).
#include "mmtrain/registry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/error_message.h"

namespace mmtrain {
namespace {

using Names = std::vector<std::string>;

TEST(NameRegistry, ListsNamesInRegistrationOrder) {
  Registry<int> registry("type");
  registry.add("vit", 1);
  registry.add("resnet", 2);
  registry.add("convnet", 3);
  EXPECT_EQ(registry.names(), (Names{"vit", "resnet", "convnet"}));
}

TEST(NameRegistry, RegisteringANameAgainReplacesItsEntryAndKeepsItsPlace) {
  Registry<int> registry("type");
  registry.add("late", 1);
  registry.add("early", 2);
  registry.add("late", 10);
  EXPECT_EQ(registry.names(), (Names{"late", "early"}));
  EXPECT_EQ(registry.find("late", "model.fusion.type"), 10);
}

TEST(NameRegistry, UnknownNameIsAConfigErrorNamingTheKeyAndListingTheRegisteredNames) {
  Registry<int> registry("loss term");
  registry.add("clip", 1);
  registry.add("siglip", 2);
  const std::string message = test::error_message<ConfigError>([&] { registry.find("mse", "loss.terms"); });
  EXPECT_EQ(message, "loss.terms: unknown loss term 'mse' (valid: clip, siglip)");
}

TEST(NameRegistry, NamesWhereKeepsTheNamesWhoseEntrySatisfiesThePredicate) {
  Registry<bool> registry("type");
  registry.add("late", false);
  registry.add("early", true);
  registry.add("cross_attention", true);
  EXPECT_EQ(registry.names_where([](bool fused) { return fused; }), (Names{"early", "cross_attention"}));
}

TEST(NameRegistry, RemovedNameIsNoLongerFound) {
  Registry<int> registry("head");
  registry.add("caption", 1);
  registry.add("answer", 2);
  registry.remove("caption");
  EXPECT_FALSE(registry.contains("caption"));
  EXPECT_TRUE(registry.contains("answer"));
  EXPECT_THROW(registry.find("caption", "model.heads"), ConfigError);
}

TEST(NameRegistry, AlternativesJoinTheLastNameWithOr) {
  EXPECT_EQ(alternatives({"clip"}), "clip");
  EXPECT_EQ(alternatives({"early", "cross_attention"}), "early or cross_attention");
  EXPECT_EQ(alternatives({"clip", "siglip", "itm"}), "clip, siglip or itm");
  EXPECT_EQ(listed({"clip", "siglip", "itm"}), "clip, siglip, itm");
}

}  // namespace
}  // namespace mmtrain
