// Question-answer data: VQA v2's published layout (a small fixture in its exact form) and JSONL.
#include <gtest/gtest.h>

#include "mmtrain/data/dataset.h"
#include "mmtrain/errors.h"
#include "support/temp_dir.h"
#include "test_paths.h"

namespace mmtrain {
namespace {

const std::string kFixture = std::string(MMTRAIN_SOURCE_DIR) + "/tests/fixtures/vqa_v2/";

PairSourceConfig vqa_v2_source() {
  PairSourceConfig source;
  source.type = "vqa_v2";
  source.path = kFixture + "v2_OpenEnded_mscoco_val2014_questions.json";
  source.annotations = kFixture + "v2_mscoco_val2014_annotations.json";
  source.image_root = "/coco/val2014";
  return source;
}

TEST(VqaSources, VqaV2QuestionsJoinTheirAnnotationsAndNameCocoImagesByIdAndSubtype) {
  const PairDataset set = read_pair_source(vqa_v2_source(), "data.train");
  ASSERT_EQ(set.samples.size(), 3u);
  const PairSample& first = set.samples[0];
  EXPECT_EQ(first.image_path, "/coco/val2014/COCO_val2014_000000000042.jpg");
  EXPECT_EQ(first.captions, std::vector<std::string>{"What color is the cup?"});
  EXPECT_EQ(first.question_id, 42000);
  ASSERT_EQ(first.answers.size(), 10u);
  EXPECT_EQ(first.answers[8], "Red");
  EXPECT_EQ(first.question_type, "other");  // the answer type, as the official summary reports
  EXPECT_EQ(set.samples[1].question_type, "number");
  EXPECT_EQ(set.samples[2].image_path, "/coco/val2014/COCO_val2014_000000393225.jpg");
  // The question without an annotation is counted, naming the question.
  ASSERT_EQ(set.bad.size(), 1u);
  EXPECT_NE(set.bad[0].reason.find("question_id 7000"), std::string::npos) << set.bad[0].reason;
}

TEST(VqaSources, VqaV2QuestionsWithoutAnnotationsAreQuestionsToAnswer) {
  PairSourceConfig source = vqa_v2_source();
  source.annotations.clear();
  const PairDataset set = read_pair_source(source, "--questions");
  ASSERT_EQ(set.samples.size(), 4u);
  for (const auto& sample : set.samples) EXPECT_TRUE(sample.answers.empty());
}

TEST(VqaSources, MalformedVqaV2FilesAreRefusedNamingTheFileAndWhatWasExpected) {
  test::TempDir dir;
  PairSourceConfig source = vqa_v2_source();
  source.path = dir.write("q.json", R"({"questions": []})");
  try {
    read_pair_source(source, "data.train");
    FAIL() << "a questions file without data_subtype was read";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find("q.json"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("data_subtype"), std::string::npos) << error.what();
  }
  source = vqa_v2_source();
  source.annotations = dir.write("a.json", R"({"annotations": [{"question_id": 1, "answers": [{"text": "x"}]}]})");
  try {
    read_pair_source(source, "data.train");
    FAIL() << "an answer without its \"answer\" string was read";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find("a.json: annotation 1"), std::string::npos) << error.what();
  }
}

TEST(VqaSources, JsonlRowsTakeOneOrSeveralAnswersAndCountMalformedRows) {
  test::TempDir dir;
  PairSourceConfig source;
  source.type = "vqa";
  source.path = dir.write("q.jsonl",
                          "{\"image\": \"a.png\", \"question\": \"what colour?\", \"answers\": \"red\", \"question_type\": \"colour\"}\n"
                          "{\"image\": \"b.png\", \"question\": \"how many?\", \"answers\": [\"2\", \"two\", \"3\"]}\n"
                          "{\"image\": \"c.png\", \"question\": \"unanswered?\"}\n"
                          "{\"image\": \"d.png\", \"answers\": \"no question\"}\n"
                          "{\"image\": \"e.png\", \"question\": \"bad answers\", \"answers\": 3}\n");
  const PairDataset set = read_pair_source(source, "data.train");
  ASSERT_EQ(set.samples.size(), 3u);
  EXPECT_EQ(set.samples[0].answers, std::vector<std::string>{"red"});
  EXPECT_EQ(set.samples[0].question_type, "colour");
  EXPECT_EQ(set.samples[1].answers, (std::vector<std::string>{"2", "two", "3"}));
  EXPECT_EQ(set.samples[1].captions, std::vector<std::string>{"how many?"});
  EXPECT_TRUE(set.samples[2].answers.empty());
  ASSERT_EQ(set.bad.size(), 2u);
  EXPECT_NE(set.bad[0].where.find("q.jsonl:4"), std::string::npos);
  EXPECT_NE(set.bad[1].reason.find("\"answers\""), std::string::npos) << set.bad[1].reason;
}

TEST(VqaSources, JsonlRowsReadTheOptionalTargetAndCountAMalformedOneNamingIt) {
  test::TempDir dir;
  PairSourceConfig source;
  source.type = "vqa";
  source.path = dir.write("q.jsonl",
                          "{\"image\": \"a.png\", \"question\": \"what colour?\", \"answers\": \"red\", \"target\": [0.25, 0.75]}\n"
                          "{\"image\": \"b.png\", \"question\": \"how many?\", \"answers\": \"2\"}\n"
                          "{\"image\": \"c.png\", \"question\": \"where?\", \"answers\": \"x\", \"target\": [0.5]}\n"
                          "{\"image\": \"d.png\", \"question\": \"where?\", \"answers\": \"x\", \"target\": \"left\"}\n");
  const PairDataset set = read_pair_source(source, "data.train");
  ASSERT_EQ(set.samples.size(), 2u);
  EXPECT_EQ(set.samples[0].target, (std::vector<float>{0.25f, 0.75f}));
  EXPECT_TRUE(set.samples[1].target.empty());
  ASSERT_EQ(set.bad.size(), 2u);
  EXPECT_NE(set.bad[0].where.find("q.jsonl:3"), std::string::npos) << set.bad[0].where;
  EXPECT_NE(set.bad[1].where.find("q.jsonl:4"), std::string::npos) << set.bad[1].where;
  EXPECT_NE(set.bad[0].reason.find("\"target\""), std::string::npos) << set.bad[0].reason;
}

}  // namespace
}  // namespace mmtrain
