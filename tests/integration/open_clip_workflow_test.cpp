// "Bring your CLIP" as a user does it: convert open_clip weights, embed with the checkpoint alone,
// fine-tune from it at another image size with a locked image tower, resume, and export back.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "mmtrain/io/safetensors.h"
#include "support/command.h"
#include "support/reference_data.h"
#include "support/temp_dir.h"
#include "support/text_files.h"

namespace mmtrain {
namespace {

class OpenClipWorkflow : public ::testing::Test {
 protected:
  void SetUp() override {
    MMTRAIN_REQUIRE_REFERENCE_DATA("openclip_golden/meta.json");
    golden_ = test::reference_data("openclip_golden");
    std::ifstream in(golden_ + "/meta.json");
    meta_ = nlohmann::json::parse(in);
    const auto config = dir_.write("open_clip_config.json", meta_.at("open_clip_config").dump());
    checkpoint_ = (dir_.path() / "clip.pt").string();
    const auto converted = test::run_mmtrain(
        "convert --format open_clip --config " + config + " --weights " + golden_ + "/model.safetensors --vocab " +
        test::reference_data("bpe_simple_vocab_16e6.txt.gz") + " --out " + checkpoint_);
    ASSERT_EQ(converted.exit_code, 0) << converted.output;
  }

  test::TempDir dir_;
  std::string golden_, checkpoint_;
  nlohmann::json meta_;
};

TEST_F(OpenClipWorkflow, EmbedFromTheConvertedCheckpointMatchesOpenClipsTextFeatures) {
  const auto texts = dir_.write("texts.txt", meta_["captions"][0].get<std::string>() + "\n" +
                                                 meta_["captions"][3].get<std::string>() + "\n");
  const auto npy = (dir_.path() / "t.npy").string();
  const auto result = test::run_mmtrain("embed --checkpoint " + checkpoint_ + " --texts " + texts + " --out " + npy);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string bytes = test::read_bytes(npy);
  ASSERT_NE(bytes.find("'shape': (2,64)"), std::string::npos);
  auto values = test::npy_floats(bytes);
  ASSERT_EQ(values.size(), 2u * 64u);
  auto ours = torch::from_blob(values.data(), {2, 64}).clone();
  const auto reference = read_safetensors(golden_ + "/golden.safetensors").at("out.text_features_norm");
  auto expected = torch::stack({reference[0], reference[3]});
  EXPECT_LT((ours - expected).abs().max().item<double>() / expected.abs().max().item<double>(), 1e-5);
}

TEST_F(OpenClipWorkflow, FineTunesAtAnotherImageSizeWithALockedImageTowerAndResumes) {
  ASSERT_EQ(test::run_mmtrain("data synth --out " + (dir_.path() / "data").string() + " --n 64 --image-size 32").exit_code, 0);
  const std::string data = (dir_.path() / "data").string();
  const std::string train = "train -c " + dir_.write("empty.yaml", "{}\n") +
                            " --set run.output_dir=" + (dir_.path() / "runs").string() + " --set run.name=ft" +
                            " --set data.train.path=" + data + "/train.csv" +
                            " --set 'model.init_from={format: mmtrain, weights: " + checkpoint_ + ", image_size: 32}'" +
                            " --set model.lock.vision=true --set train.batch_size=16 --set train.steps=4" +
                            " --set optim.warmup_steps=1";
  const auto first = test::run_mmtrain(train + " --stop-at 2");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("interpolated vision.positional_embedding [17, 64] -> [5, 64]"), std::string::npos)
      << first.output;
  const auto resumed = test::run_mmtrain(train + " --resume latest");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("step 4/4"), std::string::npos) << resumed.output;

  // The locked image tower did not move; the text tower did.
  const auto exported = (dir_.path() / "exported").string();
  const auto result = test::run_mmtrain("export --checkpoint " + (dir_.path() / "runs/ft/checkpoints/latest").string() +
                                        " --format open_clip --out " + exported);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto tuned = read_safetensors(exported + "/open_clip_model.safetensors");
  const auto original = read_safetensors(golden_ + "/model.safetensors");
  EXPECT_TRUE(torch::equal(tuned.at("visual.conv1.weight"), original.at("visual.conv1.weight")));
  EXPECT_TRUE(torch::equal(tuned.at("visual.proj"), original.at("visual.proj")));
  EXPECT_FALSE(torch::equal(tuned.at("ln_final.weight"), original.at("ln_final.weight")));
  EXPECT_TRUE(std::filesystem::exists(exported + "/open_clip_config.json"));
}

TEST_F(OpenClipWorkflow, FineTunesStraightFromOpenClipFilesWithTheClipTokenizer) {
  ASSERT_EQ(test::run_mmtrain("data synth --out " + (dir_.path() / "data").string() + " --n 32 --image-size 32").exit_code, 0);
  const auto result = test::run_mmtrain(
      "train -c " + dir_.write("direct.yaml", "{}\n") + " --set run.output_dir=" + (dir_.path() / "runs").string() +
      " --set data.train.path=" + (dir_.path() / "data/train.csv").string() +
      " --set 'tokenizer={type: clip_bpe, path: " + test::reference_data("bpe_simple_vocab_16e6.txt.gz") + "}'" +
      " --set 'model.init_from={format: open_clip, config: " + (dir_.path() / "open_clip_config.json").string() +
      ", weights: " + golden_ + "/model.pt}' --set train.batch_size=16 --set train.steps=1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("loaded weights from " + golden_ + "/model.pt"), std::string::npos) << result.output;
}

TEST(OpenClipExport, RefusesAModelWithoutClipsTokenizerNamingTheReason) {
  test::TempDir dir;
  const std::string data = (dir.path() / "data").string();
  ASSERT_EQ(test::run_mmtrain("data synth --out " + data + " --n 32 --image-size 32").exit_code, 0);
  const auto trained = test::run_mmtrain(
      "train -c " + dir.write("c.yaml", "{}\n") + " --set run.output_dir=" + (dir.path() / "runs").string() +
      " --set data.train.path=" + data + "/train.csv --set tokenizer.vocab_size=64 --set train.batch_size=16" +
      " --set train.steps=1 --set 'model.vision={image_size: 32, patch_size: 16, width: 32, layers: 1, heads: 2}'" +
      " --set 'model.text={context_length: 16, width: 32, layers: 1, heads: 2}' --set model.embed_dim=16");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const auto result = test::run_mmtrain("export --checkpoint " + (dir.path() / "runs/default/checkpoints/latest").string() +
                                        " --format open_clip --out " + (dir.path() / "out").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("open_clip cannot load this model: its tokenizer is 'sentencepiece'"), std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace mmtrain
