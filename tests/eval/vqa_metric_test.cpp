#include "mmtrain/eval/vqa_metric.h"

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mmtrain/errors.h"
#include "test_paths.h"

namespace mmtrain {
namespace {

// tests/fixtures/vqa_accuracy.json: what the official vqaEval.py (run by make_vqa_accuracy.py)
// gives 322 questions, hand-made for each rule and seeded at random.
nlohmann::json fixture() {
  std::ifstream in(std::string(MMTRAIN_SOURCE_DIR) + "/tests/fixtures/vqa_accuracy.json");
  EXPECT_TRUE(in.good()) << "tests/fixtures/vqa_accuracy.json is missing";
  return nlohmann::json::parse(in);
}

TEST(VqaMetric, EveryQuestionScoresAsTheOfficialEvaluationWithin1e12) {
  const auto data = fixture();
  std::vector<VqaQuestionResult> results;
  for (const auto& q : data["questions"]) {
    const double ours = vqa_accuracy(q["predicted"].get<std::string>(), q["answers"].get<std::vector<std::string>>());
    EXPECT_NEAR(ours, q["accuracy"].get<double>(), 1e-12) << "predicted " << q["predicted"] << " answers " << q["answers"];
    results.push_back({q["question_type"].get<std::string>(), ours});
  }
  ASSERT_EQ(results.size(), 322u);
  const VqaScores scores = aggregate_vqa(results);
  EXPECT_NEAR(scores.overall, data["overall"].get<double>(), 1e-12);
  ASSERT_EQ(scores.per_type.size(), data["per_question_type"].size());
  for (const auto& [type, value] : data["per_question_type"].items()) {
    EXPECT_NEAR(scores.per_type.at(type), value.get<double>(), 1e-12) << type;
  }
}

TEST(VqaMetric, NormalisationFollowsTheOfficialRules) {
  EXPECT_EQ(normalize_vqa_answer("Two dogs."), "2 dogs");
  EXPECT_EQ(normalize_vqa_answer("the dont"), "don't");
  EXPECT_EQ(normalize_vqa_answer("3.5"), "3.5");
  EXPECT_EQ(normalize_vqa_answer("1,000"), "1000");                 // a comma between digits: every mark removed
  EXPECT_EQ(normalize_vqa_answer("left/right"), "left right");      // a mark touching no space becomes one
  EXPECT_EQ(normalize_vqa_answer("yes !"), "yes");                  // one touching a space goes
}

TEST(VqaMetric, PartialCreditCountsTheOtherNineAnnotators) {
  std::vector<std::string> answers(10, "dog");
  answers[0] = answers[1] = "cat";
  // Two "cat" annotators: left out, one of them leaves 1 match (1/3); the other eight folds see 2.
  EXPECT_NEAR(vqa_accuracy("cat", answers), (2 * (1.0 / 3) + 8 * (2.0 / 3)) / 10, 1e-15);
  EXPECT_DOUBLE_EQ(vqa_accuracy("dog", answers), 1.0);
  EXPECT_DOUBLE_EQ(vqa_accuracy("bird", answers), 0.0);
  EXPECT_THROW(vqa_accuracy("x", {}), DataError);
}

TEST(VqaMetric, FewerAnnotatorsNeedAllTheOthersAndOneReferenceIsAnExactMatch) {
  EXPECT_DOUBLE_EQ(vqa_accuracy("red", {"red"}), 1.0);
  EXPECT_DOUBLE_EQ(vqa_accuracy("Red.", {"red"}), 0.0);  // unanimous: not normalised, as officially
  EXPECT_DOUBLE_EQ(vqa_accuracy("blue", {"red"}), 0.0);
  EXPECT_DOUBLE_EQ(vqa_accuracy("2", {"two", "2"}), 1.0);  // disagreeing: normalised, both match
  // Three annotators, two say "yes": leaving out a "yes" leaves 1 of the 2 others (1/2), leaving out
  // the "no" leaves both (1).
  EXPECT_DOUBLE_EQ(vqa_accuracy("yes", {"yes", "yes", "no"}), (0.5 + 0.5 + 1.0) / 3);
}

}  // namespace
}  // namespace mmtrain
