#include "mmtrain/data/answer_vocab.h"

#include <gtest/gtest.h>

#include "mmtrain/errors.h"

namespace mmtrain {
namespace {

PairSample answered(std::vector<std::string> answers) {
  PairSample sample;
  sample.captions = {"q"};
  sample.answers = std::move(answers);
  return sample;
}

TEST(AnswerVocab, KeepsTheMostFrequentNormalisedAnswersTiesInByteOrder) {
  PairDataset set;
  set.samples = {answered({"Two", "2", "yes"}), answered({"yes", "no", "blue"}), answered({"a cat", "cat", "red"})};
  // "2" x2 (Two -> 2), "cat" x2 (articles dropped), "yes" x2; then blue, no, red once.
  const AnswerVocab vocab = AnswerVocab::build(set, 4);
  EXPECT_EQ(vocab.answers(), (std::vector<std::string>{"2", "cat", "yes", "blue"}));
  EXPECT_EQ(vocab.index_of("yes"), 2);
  EXPECT_EQ(vocab.index_of("red"), -1);
}

TEST(AnswerVocab, SoftTargetsAreMinOfOneAndMatchesOverThreeForTenAnswersAndOneForASingleAnswer) {
  const AnswerVocab vocab({"red", "dark red", "2", "yes"});
  std::vector<float> row(4);
  vocab.fill_targets({"red", "red", "Red", "red", "dark red", "maroon", "dark red", "red", "red", "red"}, row.data());
  EXPECT_FLOAT_EQ(row[0], 1.0f);           // 8 matches: capped at 1
  EXPECT_NEAR(row[1], 2.0 / 3.0, 1e-6);    // 2 of 10 annotators
  EXPECT_EQ(row[2], 0.0f);
  vocab.fill_targets({"two"}, row.data());  // one-answer data: the answer scores 1
  EXPECT_EQ(row, (std::vector<float>{0, 0, 1, 0}));
  vocab.fill_targets({"yes", "no"}, row.data());  // two annotators: each answer is half of them
  EXPECT_FLOAT_EQ(row[3], 0.5f);
  vocab.fill_targets({}, row.data());
  EXPECT_EQ(row, (std::vector<float>{0, 0, 0, 0}));
}

TEST(AnswerVocab, AnswersByTypeListEachQuestionTypesAnswersTypesInByteOrder) {
  const AnswerVocab vocab({"yes", "no", "red", "2"});
  PairDataset set;
  set.source = "train.jsonl";
  set.samples = {answered({"yes"}), answered({"Red", "purple"}), answered({"no", "two"}), answered({"yes"})};
  set.samples[0].question_type = "exists";
  set.samples[1].question_type = "colour";
  set.samples[2].question_type = "exists";  // "two" normalises to 2, "purple" is not in the vocabulary
  // The last row has no type: it is a type of its own ("").
  const auto by_type = vocab.answers_by_type(set, 3);
  EXPECT_EQ(by_type, (std::vector<std::vector<int64_t>>{{0}, {2}, {0, 1, 3}}));
  try {
    vocab.answers_by_type(set, 2);
    FAIL() << "three question types for two were accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("model.head.answer_types: 2, but train.jsonl has 3"), std::string::npos)
        << error.what();
  }
}

TEST(AnswerVocab, RoundTripsThroughTextAndRefusesDataWithoutAnswers) {
  const AnswerVocab vocab({"red", "dark red", "2"});
  EXPECT_EQ(AnswerVocab::from_text(vocab.to_text()).answers(), vocab.answers());
  PairDataset set;
  set.source = "train.jsonl";
  set.samples = {answered({})};
  EXPECT_THROW(AnswerVocab::build(set, 10), DataError);
}

}  // namespace
}  // namespace mmtrain
