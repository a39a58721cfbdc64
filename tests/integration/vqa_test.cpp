// Visual question answering as a user runs it with the binary: the built-in scenes written,
// a cross-attention model with the vqa head trained, stopped and resumed, then `eval`, `vqa` (with
// and without the images) and the report showing the answers beside their images.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mmtrain/eval/checkpoint_model.h"
#include "mmtrain/heads/vqa_head.h"
#include "support/command.h"
#include "support/temp_dir.h"
#include "support/text_files.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;
using test::json_lines;
using test::read_text;

std::string train_command(const std::string& config, const std::string& data, const std::string& runs,
                          const std::string& fusion) {
  return "train -c " + config + " --set run.output_dir=" + runs + " --set run.name=vqa --set data.train.type=vqa" +
         " --set data.train.path=" + data + "/train.jsonl --set tokenizer.vocab_size=64 --set model.embed_dim=32" +
         " --set 'model.vision={image_size: 32, patch_size: 8, width: 32, layers: 1, heads: 2}'" +
         " --set 'model.text={context_length: 24, width: 32, layers: 1, heads: 2}'" +
         " --set 'model.fusion={type: " + fusion + ", width: 32, layers: 1, heads: 2}'" +
         " --set 'model.head={type: vqa, answers: 20}' --set 'loss.terms={vqa: 1.0}'" +
         " --set train.batch_size=16 --set train.steps=6 --set optim.warmup_steps=2" +
         " --set eval.vqa.path=" + data + "/test.jsonl --set eval.best_metric=vqa/accuracy";
}

// A temporary directory with `mmtrain data scenes <options>` written under data/, runs/ for the
// runs and an empty config.
struct Scenes {
  explicit Scenes(const std::string& options) {
    const auto written = test::run_mmtrain("data scenes --out " + data + " " + options);
    EXPECT_EQ(written.exit_code, 0) << written.output;
  }
  test::TempDir dir;
  const std::string data = (dir.path() / "data").string(), runs = (dir.path() / "runs").string();
  const std::string config = dir.write("empty.yaml", "{}\n");
};

// `train` stopped after step 3, then resumed to its end; the first part's output.
std::string train_stopped_and_resumed(const std::string& train) {
  const auto stopped = test::run_mmtrain(train + " --stop-at 3");
  EXPECT_EQ(stopped.exit_code, 0) << stopped.output;
  const auto resumed = test::run_mmtrain(train + " --resume latest");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming from"), std::string::npos) << resumed.output;
  return stopped.output;
}

TEST(Vqa, ScenesTrainStopResumeAndAreAnsweredByEvalAndTheVqaCommandWithAndWithoutImages) {
  const Scenes scenes("--scenes 40 --test-scenes 16 --questions 3 --image-size 32");
  const auto& dir = scenes.dir;
  const std::string &data = scenes.data, &runs = scenes.runs;
  const std::string stopped = train_stopped_and_resumed(train_command(scenes.config, data, runs, "cross_attention"));
  EXPECT_NE(stopped.find("answer vocabulary:"), std::string::npos) << stopped;
  const std::string checkpoint = runs + "/vqa/checkpoints/latest";

  // The trainer evaluated and kept answered questions for the report.
  const std::string metrics = read_text(runs + "/vqa/metrics.jsonl");
  for (const char* key : {"\"loss/vqa\"", "\"vqa/accuracy\"", "\"vqa/question_only\"", "\"vqa/count\""}) {
    EXPECT_NE(metrics.find(key), std::string::npos) << key;
  }
  const auto samples = json_lines(read_text(runs + "/vqa/answers.jsonl"));
  ASSERT_EQ(samples.size(), 12u);
  EXPECT_TRUE(samples[0]["answer"].is_string());
  ASSERT_EQ(test::run_mmtrain("report " + runs + "/vqa").exit_code, 0);
  const std::string report = read_text(runs + "/vqa/report.html");
  EXPECT_NE(report.find("Sample answers"), std::string::npos);
  EXPECT_NE(report.find("data:image/png;base64,"), std::string::npos);

  // eval scores the checkpoint's answers per question type, from the vocabulary it carries.
  const auto evaluated = test::run_mmtrain("eval --checkpoint " + checkpoint + " --json -");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  for (const char* key : {"vqa/accuracy", "vqa/question_only", "vqa/colour", "vqa/shape", "vqa/spatial"}) {
    EXPECT_NE(evaluated.output.find(std::string("\"") + key + "\""), std::string::npos) << key;
  }

  // `vqa` answers every question in order, each scored; the held-out file loads the same way.
  // The answers are read from --out: on stdout the log's lines may land inside a long answer line.
  const std::string answers = (dir.path() / "answers.jsonl").string();
  const auto answered =
      test::run_mmtrain("vqa --checkpoint " + checkpoint + " --questions " + data + "/test.jsonl --out " + answers);
  ASSERT_EQ(answered.exit_code, 0) << answered.output;
  const auto lines = json_lines(read_text(answers));
  ASSERT_EQ(lines.size(), 48u) << answered.output;  // 16 scenes x 3 questions
  const auto questions = json_lines(read_text(data + "/test.jsonl"));
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["question"], questions[i]["question"]);
    const double accuracy = lines[i]["accuracy"].get<double>();
    EXPECT_EQ(accuracy, lines[i]["answer"] == questions[i]["answers"][0] ? 1.0 : 0.0) << lines[i].dump();
  }
  const std::string out = (dir.path() / "blind.jsonl").string();
  const auto blind = test::run_mmtrain("vqa --checkpoint " + checkpoint + " --questions " + data +
                                       "/heldout.jsonl --question-only --out " + out);
  ASSERT_EQ(blind.exit_code, 0) << blind.output;
  EXPECT_NE(blind.output.find("with blank images"), std::string::npos) << blind.output;
  EXPECT_EQ(json_lines(read_text(out)).size(), json_lines(read_text(data + "/heldout.jsonl")).size());
}

TEST(Vqa, PointingWordsTrainOnTheScenesTargetsAndDataWithoutTargetsIsRefusedNamingTheTerm) {
  Scenes scenes("--scenes 24 --test-scenes 4 --questions 3 --image-size 32");
  auto& dir = scenes.dir;
  const std::string &data = scenes.data, &runs = scenes.runs, &config = scenes.config;
  const std::string pointing = " --set 'model.head={type: vqa, answers: 20, point: words}'"
                               " --set 'loss.terms={vqa: 1.0, vqa_point: 1.0}' --set train.log_every=2";
  const auto trained = test::run_mmtrain(train_command(config, data, runs, "cross_attention") + pointing);
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  // The pointing term trains beside the answers on the questions' targets: a finite, positive loss.
  const auto metrics = json_lines(read_text(runs + "/vqa/metrics.jsonl"));
  int pointed = 0;
  for (const auto& line : metrics) {
    if (!line.contains("loss/vqa_point")) continue;
    EXPECT_GT(line["loss/vqa_point"].get<double>(), 0.0) << line.dump();
    ++pointed;
  }
  EXPECT_GT(pointed, 0);

  // The same questions without their targets: the pointing term would train nothing, refused at start.
  const std::string untargeted_path =
      dir.write("data/untargeted.jsonl", test::without_member(read_text(data + "/train.jsonl"), "target"));
  const auto refused = test::run_mmtrain(train_command(config, data, runs, "cross_attention") + pointing +
                                         " --set run.name=untargeted --set data.train.path=" + untargeted_path);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("loss.terms.vqa_point"), std::string::npos) << refused.output;
}

TEST(Vqa, AnswerTypesGroupTheTrainingAnswersByQuestionTypeAndTheCheckpointKeepsTheGrouping) {
  const Scenes scenes("--scenes 24 --test-scenes 4 --questions 3 --image-size 32");
  const std::string &data = scenes.data, &runs = scenes.runs, &config = scenes.config;
  const std::string typed = train_command(config, data, runs, "cross_attention") +
                            " --set 'model.head={type: vqa, answers: 20, answer_types: 8}' --set 'loss.terms={vqa_ce: 1.0}'";
  const std::string stopped = train_stopped_and_resumed(typed);
  EXPECT_NE(stopped.find("question types of the training data group the answers"), std::string::npos) << stopped;

  // The resumed run's checkpoint holds each question type's answers, the types in byte order.
  std::map<std::string, std::set<std::string>> by_type;
  for (const auto& row : json_lines(read_text(data + "/train.jsonl"))) {
    by_type[row["question_type"].get<std::string>()].insert(row["answers"][0].get<std::string>());
  }
  ASSERT_GE(by_type.size(), 6u);
  CheckpointModel loaded = load_checkpoint_model(runs + "/vqa/checkpoints/latest", torch::kCPU);
  auto expected = torch::zeros({8, 20});
  int64_t type = 0;
  for (const auto& [name, answers] : by_type) {
    for (const auto& answer : answers) expected[type][loaded.answers->index_of(answer)] = 1.0f;
    ++type;
  }
  const auto grouping = vqa_head_of(*loaded.model, "test").named_buffers()["type_answers"];
  EXPECT_TRUE(torch::equal(grouping, expected)) << grouping << expected;

  // Fewer types than the data has: refused at start, naming the key and the file.
  const auto refused = test::run_mmtrain(typed + " --set run.name=few --set model.head.answer_types=2");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("model.head.answer_types: 2, but " + data + "/train.jsonl has"), std::string::npos)
      << refused.output;
}

TEST(Vqa, ALateFusionModelOrCaptionDataAreRefusedNamingWhatTheVqaHeadNeeds) {
  const Scenes scenes("--scenes 4 --test-scenes 2 --image-size 32");
  const std::string &data = scenes.data, &runs = scenes.runs, &config = scenes.config;
  const auto late = test::run_mmtrain(train_command(config, data, runs, "late"));
  EXPECT_EQ(late.exit_code, 2) << late.output;
  EXPECT_NE(late.output.find("model.head.type"), std::string::npos) << late.output;
  EXPECT_NE(late.output.find("cross_attention"), std::string::npos) << late.output;
  // A checkpoint without a vqa head cannot answer.
  ASSERT_EQ(test::run_mmtrain("data synth --out " + data + "/synth --n 32 --image-size 32").exit_code, 0);
  const auto clip = test::run_mmtrain("train -c " + config + " --set run.output_dir=" + runs + " --set run.name=clip" +
                                      " --set data.train.path=" + data + "/synth/train.csv --set tokenizer.vocab_size=64" +
                                      " --set model.embed_dim=16 --set 'model.vision={image_size: 32, patch_size: 8, width: 16, layers: 1, heads: 2}'" +
                                      " --set 'model.text={context_length: 16, width: 16, layers: 1, heads: 2}'" +
                                      " --set train.batch_size=16 --set train.steps=1");
  ASSERT_EQ(clip.exit_code, 0) << clip.output;
  const auto refused = test::run_mmtrain("vqa --checkpoint " + runs + "/clip/checkpoints/latest --questions " + data + "/test.jsonl");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("model.head.type: vqa"), std::string::npos) << refused.output;
}

}  // namespace
}  // namespace mmtrain
