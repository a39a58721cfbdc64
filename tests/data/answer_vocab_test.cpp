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
