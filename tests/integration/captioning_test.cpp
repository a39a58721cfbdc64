// Caption fine-tuning as a user runs it with the binary: a contrastive model trained first, then a
// caption decoder trained on it with the vision tower locked, stopped and resumed; then `caption`
// and `eval` on the result, and the report showing the captions beside their images.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/command.h"
#include "support/temp_dir.h"
#include "support/text_files.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;
using test::json_lines;
using test::read_text;

std::string model_flags(const std::string& data, const std::string& runs) {
  return " --set run.output_dir=" + runs + " --set data.train.path=" + data + "/train.csv" +
         " --set tokenizer.vocab_size=128 --set model.embed_dim=32" +
         " --set 'model.vision={image_size: 32, patch_size: 8, width: 32, layers: 1, heads: 2}'" +
         " --set 'model.text={context_length: 16, width: 32, layers: 1, heads: 2}'" +
         " --set train.batch_size=32 --set optim.warmup_steps=2";
}

TEST(Captioning, FineTuningFromAContrastiveCheckpointWithTheVisionTowerLockedTrainsStopsResumesCaptionsAndScores) {
  test::TempDir dir;
  const std::string data = (dir.path() / "data").string(), runs = (dir.path() / "runs").string();
  const std::string config = dir.write("empty.yaml", "{}\n");
  ASSERT_EQ(test::run_mmtrain("data synth --out " + data + " --n 96 --image-size 32").exit_code, 0);

  const auto contrastive = test::run_mmtrain("train -c " + config + model_flags(data, runs) +
                                             " --set run.name=clip --set train.steps=4");
  ASSERT_EQ(contrastive.exit_code, 0) << contrastive.output;
  const std::string clip = runs + "/clip/checkpoints/latest";

  const std::string caption_run =
      "train -c " + config + model_flags(data, runs) + " --set run.name=caption --set train.steps=8" +
      " --set 'model.init_from={format: mmtrain, weights: " + clip + "}' --set model.lock.vision=true" +
      " --set 'model.head={type: caption, layers: 1, heads: 2}' --set 'loss.terms={clip: 1.0, caption: 2.0}'" +
      " --set data.train.caption_key=description --set eval.captioning.path=" + data + "/zeroshot_heldout.csv" +
      " --set eval.captioning.caption_key=description --set eval.captioning.attributes=" + data +
      "/caption_attributes.txt --set eval.best_metric=captioning/cider";
  const auto stopped = test::run_mmtrain(caption_run + " --stop-at 4");
  ASSERT_EQ(stopped.exit_code, 0) << stopped.output;
  const auto resumed = test::run_mmtrain(caption_run + " --resume latest");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming from"), std::string::npos) << resumed.output;
  const std::string caption_checkpoint = runs + "/caption/checkpoints/latest";

  // The locked tower and its projection kept the contrastive weights: the same image embeddings.
  const std::string images = " --images " + data + "/zeroshot_seen.csv --out ";
  ASSERT_EQ(test::run_mmtrain("embed --checkpoint " + clip + images + dir.path().string() + "/a.npy").exit_code, 0);
  ASSERT_EQ(test::run_mmtrain("embed --checkpoint " + caption_checkpoint + images + dir.path().string() + "/b.npy")
                .exit_code,
            0);
  // Equal up to rounding: the caption model's tower computes every token for the decoder, the
  // contrastive model's only what it pools, and some CPUs round the two paths differently (1.8e-7 seen
  // on an AVX2 machine). Eight steps of an unlocked tower move them by far more.
  const std::string a = read_text(dir.path() / "a.npy"), b = read_text(dir.path() / "b.npy");
  ASSERT_EQ(a.size(), b.size());
  const auto x = test::npy_floats(a), y = test::npy_floats(b);
  ASSERT_EQ(x.size(), 400u * 32u);
  float worst = 0.0f;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  EXPECT_LT(worst, 1e-6f);

  // Every image captioned, in order, by beam search.
  const auto captioned = test::run_mmtrain("caption --checkpoint " + caption_checkpoint + " --images " + data +
                                           "/zeroshot_seen.csv --beam 2 --max-len 10");
  ASSERT_EQ(captioned.exit_code, 0) << captioned.output;
  const auto lines = json_lines(captioned.output);
  ASSERT_EQ(lines.size(), 400u) << captioned.output;  // 20 seen classes x 20 images
  EXPECT_NE(lines[0]["image"].get<std::string>().find("zeroshot_seen/000000.png"), std::string::npos);
  for (const auto& line : lines) EXPECT_TRUE(line["caption"].is_string()) << line.dump();

  // An unreadable image is named and the others are still captioned; the exit code says so.
  const std::string good = data + "/images/zeroshot_seen/000001.png";
  const auto partly = test::run_mmtrain("caption --checkpoint " + caption_checkpoint + " --image " + data +
                                        "/missing.png --image " + good);
  EXPECT_EQ(partly.exit_code, 1) << partly.output;
  const auto partial = json_lines(partly.output);
  ASSERT_EQ(partial.size(), 2u) << partly.output;
  EXPECT_NE(partial[0]["error"].get<std::string>().find("missing.png"), std::string::npos);
  EXPECT_TRUE(partial[1]["caption"].is_string());

  // eval scores the captions; the trainer logged the same metrics and kept samples for the report.
  const auto evaluated = test::run_mmtrain("eval --checkpoint " + caption_checkpoint + " --json -");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  for (const char* key : {"captioning/bleu_4", "captioning/rouge_l", "captioning/cider", "captioning/attributes"}) {
    EXPECT_NE(evaluated.output.find(std::string("\"") + key + "\""), std::string::npos) << key;
  }
  EXPECT_NE(read_text(runs + "/caption/metrics.jsonl").find("captioning/cider"), std::string::npos);
  ASSERT_EQ(test::run_mmtrain("report " + runs + "/caption").exit_code, 0);
  const std::string report = read_text(runs + "/caption/report.html");
  EXPECT_NE(report.find("Sample captions"), std::string::npos);
  EXPECT_NE(report.find("data:image/png;base64,"), std::string::npos);
}

}  // namespace
}  // namespace mmtrain
