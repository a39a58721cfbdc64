#include "mmtrain/data/rng.h"

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace mmtrain {
namespace {

// First draws of SplitMix64::stream(42, {tag, 3, 7}) with the tag values as literals, printed by
// the code as it was before the tags had names: checkpoints and seeds made then must keep drawing
// the same numbers.
const std::vector<std::pair<StreamTag, uint64_t>> kFirstDrawBeforeNaming = {
    {StreamTag::kEpochOrder, 0xdd48d00a78f5ae3bULL},
    {StreamTag::kSampleDraw, 0x5b77fd4d7a7a3cf8ULL},
    {StreamTag::kBadSampleReplacement, 0xc4e66f5ed06636ebULL},
    {StreamTag::kStreamSampleSeed, 0x1225fb74632d9769ULL},
    {StreamTag::kShardOrder, 0x5b04efe469395227ULL},
    {StreamTag::kShardSampleOrder, 0x4dac384f9fb1a4d8ULL},
};

TEST(StreamTag, NamedTagsDrawTheStreamsTheirLiteralValuesDrewBefore) {
  for (const auto& [tag, first_draw] : kFirstDrawBeforeNaming) {
    EXPECT_EQ(SplitMix64::stream(42, tag, {3, 7}).next(), first_draw) << static_cast<uint64_t>(tag);
  }
}

TEST(StreamTag, ATaggedStreamIsTheUntaggedStreamWithTheTagAsItsFirstId) {
  for (const auto& entry : kFirstDrawBeforeNaming) {
    const StreamTag tag = entry.first;
    auto tagged = SplitMix64::stream(9, tag, {1, 2});
    auto untagged = SplitMix64::stream(9, {static_cast<uint64_t>(tag), 1, 2});
    for (int draw = 0; draw < 4; ++draw) EXPECT_EQ(tagged.next(), untagged.next());
  }
}

TEST(StreamTag, EveryPurposeHasItsOwnValue) {
  std::set<uint64_t> values;
  for (const auto& entry : kFirstDrawBeforeNaming) values.insert(static_cast<uint64_t>(entry.first));
  EXPECT_EQ(values.size(), kFirstDrawBeforeNaming.size());
}

}  // namespace
}  // namespace mmtrain
