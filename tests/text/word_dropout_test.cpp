// Word dropout: which words go is the rng's, at about the rate asked, never all of them.
#include "mmtrain/text/word_dropout.h"

#include <gtest/gtest.h>

#include "support/words.h"

namespace mmtrain {
namespace {

int word_count(const std::string& text) { return static_cast<int>(test::words_of(text).size()); }

TEST(WordDropout, ZeroLeavesTheTextAsItIsAndDrawsNothing) {
  SplitMix64 rng(5), untouched(5);
  EXPECT_EQ(drop_words("what  colour is the circle?", 0.0, rng), "what  colour is the circle?");
  EXPECT_EQ(rng.next(), untouched.next());
}

TEST(WordDropout, LeavesOutAboutTheRateAskedKeepingOrder) {
  const std::string text = "a b c d e f g h i j";
  int kept = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    SplitMix64 rng(seed);
    const std::string out = drop_words(text, 0.25, rng);
    kept += word_count(out);
    // What is kept is a subsequence of the letters, in order, single-spaced.
    EXPECT_TRUE(test::words_in_order(out, text)) << out;
    EXPECT_EQ(out.find("  "), std::string::npos) << out;
  }
  EXPECT_NEAR(kept / 4000.0, 0.75, 0.03);  // 4000 words; the rate's standard error is 0.007
}

TEST(WordDropout, TheSameStreamDropsTheSameWords) {
  SplitMix64 a(11), b(11);
  EXPECT_EQ(drop_words("is the red circle left of the blue square?", 0.5, a),
            drop_words("is the red circle left of the blue square?", 0.5, b));
}

TEST(WordDropout, ATextNeverLosesEveryWord) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    SplitMix64 rng(seed);
    EXPECT_EQ(drop_words("triangle?", 0.9, rng).empty(), false);
    SplitMix64 again(seed);
    EXPECT_GE(word_count(drop_words("how many circles", 0.99, again)), 1);
  }
}

}  // namespace
}  // namespace mmtrain
