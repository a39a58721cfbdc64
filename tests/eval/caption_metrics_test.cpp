// COCO caption metrics against pycocoevalcap 1.2: tests/fixtures/caption_metrics.json holds
// tokenised captions with the Bleu, Rouge and Cider scores pycocoevalcap computed for them, and raw
// captions with what COCO's PTBTokenizer made of them (tests/fixtures/make_caption_metrics.py
// regenerates it). Both sides compute in double, so 1e-6 absolute leaves room only for the order
// of floating-point operations, not for a wrong count, penalty or idf.
#include "mmtrain/eval/caption_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_paths.h"

namespace mmtrain {
namespace {

constexpr double kTolerance = 1e-6;

const nlohmann::json& fixture() {
  static const nlohmann::json loaded = [] {
    const std::string path = MMTRAIN_SOURCE_DIR "/tests/fixtures/caption_metrics.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read (run tests/fixtures/make_caption_metrics.py)");
    return nlohmann::json::parse(in);
  }();
  return loaded;
}

struct FixtureCase {
  std::string name;
  std::vector<std::string> covers;
  std::vector<std::string> hypotheses;
  std::vector<std::vector<std::string>> references;
  nlohmann::json scores;
};

std::vector<FixtureCase> fixture_cases() {
  std::vector<FixtureCase> cases;
  for (const auto& entry : fixture().at("cases")) {
    cases.push_back({entry.at("name").get<std::string>(), entry.at("covers").get<std::vector<std::string>>(),
                     entry.at("hypotheses").get<std::vector<std::string>>(),
                     entry.at("references").get<std::vector<std::vector<std::string>>>(), entry.at("scores")});
  }
  return cases;
}

// Largest |actual - expected| seen per metric over all cases, printed at the end of the run.
struct MaxDifference {
  double bleu = 0, rouge_l = 0, cider_d = 0;
};

void expect_close(double actual, double expected, const std::string& what, double& max_seen) {
  const double difference = std::abs(actual - expected);
  max_seen = std::max(max_seen, difference);
  EXPECT_LE(difference, kTolerance) << what << ": mmtrain " << actual << ", pycocoevalcap " << expected;
}

TEST(CaptionMetricsFixture, MatchesPycocoevalcapCorpusAndPerImageScores) {
  ASSERT_EQ(fixture().at("pycocoevalcap").get<std::string>(), "1.2");
  MaxDifference max_seen;
  const auto cases = fixture_cases();
  ASSERT_EQ(cases.size(), 3u);
  for (const auto& c : cases) {
    const auto scores = score_captions(c.hypotheses, c.references);
    const auto& corpus = c.scores.at("corpus");
    const auto& per_image = c.scores.at("per_image");
    for (int n = 0; n < 4; ++n) {
      const std::string key = "Bleu_" + std::to_string(n + 1);
      expect_close(scores.bleu[n], corpus.at(key).get<double>(), c.name + " " + key, max_seen.bleu);
    }
    expect_close(scores.rouge_l, corpus.at("ROUGE_L").get<double>(), c.name + " ROUGE_L", max_seen.rouge_l);
    expect_close(scores.cider_d, corpus.at("CIDEr").get<double>(), c.name + " CIDEr", max_seen.cider_d);
    ASSERT_EQ(scores.cider_d_per_image.size(), c.hypotheses.size());
    ASSERT_EQ(scores.rouge_l_per_image.size(), c.hypotheses.size());
    ASSERT_EQ(scores.bleu_per_image.size(), c.hypotheses.size());
    for (std::size_t i = 0; i < c.hypotheses.size(); ++i) {
      const std::string image = c.name + " image " + std::to_string(i) + " (" + c.covers[i] + ")";
      expect_close(scores.rouge_l_per_image[i], per_image.at("ROUGE_L")[i].get<double>(), image + " ROUGE_L",
                   max_seen.rouge_l);
      expect_close(scores.cider_d_per_image[i], per_image.at("CIDEr")[i].get<double>(), image + " CIDEr",
                   max_seen.cider_d);
      for (int n = 0; n < 4; ++n) {
        expect_close(scores.bleu_per_image[i][n], per_image.at("Bleu")[i][n].get<double>(),
                     image + " Bleu_" + std::to_string(n + 1), max_seen.bleu);
      }
    }
  }
  std::printf("max |mmtrain - pycocoevalcap|: BLEU %.3g, ROUGE-L %.3g, CIDEr-D %.3g\n", max_seen.bleu,
              max_seen.rouge_l, max_seen.cider_d);
}

TEST(CaptionMetricsFixture, SeparateScorersAgreeWithScoreCaptions) {
  const auto c = fixture_cases().front();
  const auto all = score_captions(c.hypotheses, c.references);
  EXPECT_EQ(bleu_scores(c.hypotheses, c.references).corpus, all.bleu);
  EXPECT_EQ(rouge_l(c.hypotheses, c.references).per_image, all.rouge_l_per_image);
  EXPECT_EQ(cider_d(c.hypotheses, c.references).per_image, all.cider_d_per_image);
}

TEST(CaptionMetrics, PerfectHypothesisScoresBleu4AndRougeLOne) {
  const std::vector<std::string> hypotheses = {"a man riding a horse on a beach", "two dogs play in the snow"};
  const std::vector<std::vector<std::string>> references = {{"a man riding a horse on a beach", "a horse"},
                                                            {"two dogs play in the snow"}};
  const auto scores = score_captions(hypotheses, references);
  for (double bleu : scores.bleu) EXPECT_NEAR(bleu, 1.0, 1e-8);  // 1 up to the 1e-9 smoothing
  EXPECT_DOUBLE_EQ(scores.rouge_l, 1.0);
  for (double rouge : scores.rouge_l_per_image) EXPECT_DOUBLE_EQ(rouge, 1.0);
}

TEST(CaptionMetrics, RepeatingAReferenceWordGainsNoPrecisionBeyondItsCount) {
  const std::vector<std::vector<std::string>> references = {{"the cat sat on the mat", "a cat on a mat"}};
  // "cat" occurs at most once in a reference: of the hypothesis's four only one matches, so
  // BLEU-1 precision is 1/4. The hypothesis (4 words) is shorter than the closest reference
  // (5 words), so the score also carries the brevity penalty exp(1 - 5/4).
  const auto repeated = bleu_scores({"cat cat cat cat"}, references);
  EXPECT_NEAR(repeated.corpus[0], 0.25 * std::exp(1.0 - 5.0 / 4.0), 1e-8);
  // "the" occurs twice in the first reference, so two of the three count: 4 of 5 unigrams match
  // and the closest reference length is 5 (no brevity penalty).
  const auto twice = bleu_scores({"the the the mat cat"}, references);
  EXPECT_NEAR(twice.corpus[0], 4.0 / 5.0, 1e-8);
}

TEST(CaptionMetrics, MismatchedSizesThrowNamingBothSizes) {
  const std::vector<std::string> hypotheses = {"a", "b", "c"};
  const std::vector<std::vector<std::string>> references = {{"a"}, {"b"}};
  try {
    score_captions(hypotheses, references);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("3 hypotheses"), std::string::npos) << message;
    EXPECT_NE(message.find("2 reference"), std::string::npos) << message;
  }
  EXPECT_THROW(bleu_scores(hypotheses, references), std::invalid_argument);
  EXPECT_THROW(rouge_l(hypotheses, references), std::invalid_argument);
  EXPECT_THROW(cider_d(hypotheses, references), std::invalid_argument);
}

TEST(CaptionMetrics, ImageWithoutReferencesOrNoImagesThrow) {
  try {
    score_captions({"a dog", "a cat"}, {{"a dog"}, {}});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("image 1 has no reference"), std::string::npos) << error.what();
  }
  EXPECT_THROW(score_captions({}, {}), std::invalid_argument);
}

TEST(CaptionMetrics, SingleImageCiderDIsZeroBecauseIdfIsLogOfOne) {
  const auto scores = score_captions({"a dog on a couch"}, {{"a dog on a couch"}});
  EXPECT_EQ(scores.cider_d, 0.0);
  EXPECT_DOUBLE_EQ(scores.rouge_l, 1.0);
}

TEST(CaptionWords, LowerCasesAndDropsPunctuation) {
  using Words = std::vector<std::string>;
  EXPECT_EQ(caption_words("A Man riding a HORSE."), (Words{"a", "man", "riding", "a", "horse"}));
  EXPECT_EQ(caption_words("Two dogs, playing; in the snow!"), (Words{"two", "dogs", "playing", "in", "the", "snow"}));
  EXPECT_EQ(caption_words("  cars -- and trucks - parked ... "), (Words{"cars", "and", "trucks", "parked"}));
  EXPECT_EQ(caption_words("\"Stop\" sign: it's red?"), (Words{"stop", "sign", "it", "'s", "red"}));
  EXPECT_EQ(caption_words(""), Words{});
  EXPECT_EQ(tokenized_caption("A dog. On a couch,"), "a dog on a couch");
}

TEST(CaptionWords, MatchesCocoPtbTokenizerOnFixtureCaptions) {
  const auto& cases = fixture().at("caption_words");
  ASSERT_FALSE(cases.empty());
  for (const auto& entry : cases) {
    const auto text = entry.at("text").get<std::string>();
    EXPECT_EQ(caption_words(text), entry.at("words").get<std::vector<std::string>>()) << "caption: " << text;
  }
}

}  // namespace
}  // namespace mmtrain
