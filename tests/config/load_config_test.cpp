#include "mmtrain/config/load_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "mmtrain/errors.h"
#include "mmtrain/losses/loss_term.h"
#include "mmtrain/models/late_fusion.h"
#include "mmtrain/models/registry.h"
#include "support/scoped_registration.h"

namespace mmtrain {
namespace {

const char* const kSource = "configs/run.yaml";

// The ConfigError message of parsing `yaml`, so tests compare whole messages.
std::string parse_error(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(yaml, kSource, overrides);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(no error)";
}

std::string write_temp_file(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

using Terms = std::vector<std::pair<std::string, double>>;

Terms terms_of(const Config& config) {
  Terms terms;
  for (const LossTerm& term : config.loss.terms) terms.emplace_back(term.name, term.weight);
  return terms;
}

// The values are docs/reference.md's, written out here so that a changed struct default fails a test.
TEST(ConfigDefaults, EmptyDocumentGivesContractDefaults) {
  const Config c = parse_config("", "empty.yaml");
  EXPECT_EQ(c.source, "empty.yaml");
  EXPECT_EQ(c.run.name, "default");
  EXPECT_EQ(c.run.output_dir, "runs");
  EXPECT_EQ(c.run.seed, 0);
  EXPECT_EQ(c.run.threads, 0);
  EXPECT_EQ(c.run.device, "auto");
  EXPECT_EQ(c.data.train.type, "csv");
  EXPECT_EQ(c.data.train.path, "");
  EXPECT_EQ(c.data.train.image_key, "filepath");
  EXPECT_EQ(c.data.train.caption_key, "title");
  EXPECT_EQ(c.data.train.separator, "\t");
  EXPECT_EQ(c.data.workers, 2);
  EXPECT_EQ(c.data.max_bad_fraction, 0.01);
  EXPECT_EQ(c.data.max_image_pixels, 89478485);
  EXPECT_EQ(c.data.augment.crop_scale, (std::vector<double>{0.9, 1.0}));
  EXPECT_EQ(c.data.augment.crop_ratio, (std::vector<double>{0.75, 1.3333}));
  EXPECT_FALSE(c.data.augment.flip);
  EXPECT_EQ(c.data.augment.color_jitter, 0.0);
  EXPECT_EQ(c.data.augment.grayscale, 0.0);
  EXPECT_EQ(c.data.mean, (std::vector<double>{0.48145466, 0.4578275, 0.40821073}));
  EXPECT_EQ(c.data.std, (std::vector<double>{0.26862954, 0.26130258, 0.27577711}));
  EXPECT_EQ(c.tokenizer.type, "sentencepiece");
  EXPECT_EQ(c.tokenizer.path, "");
  EXPECT_EQ(c.tokenizer.vocab_size, 0);
  EXPECT_EQ(c.tokenizer.model_type, "unigram");
  EXPECT_EQ(c.model.embed_dim, 512);
  EXPECT_EQ(c.model.vision.type, "vit");
  EXPECT_EQ(c.model.vision.image_size, 224);
  EXPECT_EQ(c.model.vision.patch_size, 16);
  EXPECT_EQ(c.model.vision.width, 768);
  EXPECT_EQ(c.model.vision.layers, 12);
  EXPECT_EQ(c.model.vision.heads, 12);
  EXPECT_EQ(c.model.vision.mlp_ratio, 4.0);
  EXPECT_EQ(c.model.vision.act, "gelu");
  EXPECT_EQ(c.model.vision.pool, "cls");
  EXPECT_EQ(c.model.text.type, "transformer");
  EXPECT_EQ(c.model.text.context_length, 77);
  EXPECT_EQ(c.model.text.width, 512);
  EXPECT_EQ(c.model.text.layers, 12);
  EXPECT_EQ(c.model.text.heads, 8);
  EXPECT_EQ(c.model.text.act, "gelu");
  EXPECT_EQ(c.model.fusion.type, "late");
  EXPECT_EQ(c.model.fusion.width, 256);
  EXPECT_EQ(c.model.fusion.layers, 2);
  EXPECT_EQ(c.model.fusion.heads, 4);
  EXPECT_EQ(c.model.fusion.mlp_ratio, 4.0);
  EXPECT_EQ(c.model.init_from.format, "");
  EXPECT_EQ(c.model.init_from.weights, "");
  EXPECT_EQ(c.model.init_from.config, "");
  EXPECT_TRUE(c.model.init_from.strict);
  EXPECT_FALSE(c.model.lock.vision);
  EXPECT_FALSE(c.model.lock.text);
  EXPECT_EQ(terms_of(c), (Terms{{"clip", 1.0}}));
  EXPECT_EQ(c.loss.balance, "fixed");
  EXPECT_EQ(c.optim.lr, 5.0e-4);
  EXPECT_EQ(c.optim.weight_decay, 0.2);
  EXPECT_EQ(c.optim.betas, (std::vector<double>{0.9, 0.98}));
  EXPECT_EQ(c.optim.eps, 1.0e-6);
  EXPECT_EQ(c.optim.warmup_steps, 100);
  EXPECT_EQ(c.optim.schedule, "cosine");
  EXPECT_EQ(c.optim.grad_clip, 0.0);
  EXPECT_EQ(c.train.batch_size, 256);
  EXPECT_EQ(c.train.accum_steps, 1);
  EXPECT_EQ(c.train.steps, 0);
  EXPECT_EQ(c.train.epochs, 1);
  EXPECT_EQ(c.train.precision, "fp32");
  EXPECT_EQ(c.train.log_every, 10);
  EXPECT_EQ(c.train.checkpoint_every, 500);
  EXPECT_EQ(c.train.keep_last, 3);
  EXPECT_EQ(c.train.modality_dropout, 0.0);
  EXPECT_EQ(c.eval.every, 0);
  EXPECT_EQ(c.eval.zeroshot.type, "csv");
  EXPECT_EQ(c.eval.zeroshot.path, "");
  EXPECT_EQ(c.eval.zeroshot.image_key, "filepath");
  EXPECT_EQ(c.eval.zeroshot.label_key, "label");
  EXPECT_EQ(c.eval.zeroshot.classnames, "");
  EXPECT_EQ(c.eval.zeroshot.templates, "");
  EXPECT_EQ(c.eval.retrieval.type, "csv");
  EXPECT_EQ(c.eval.retrieval.path, "");
  EXPECT_EQ(c.eval.retrieval.image_key, "filepath");
  EXPECT_EQ(c.eval.retrieval.caption_key, "title");
  EXPECT_EQ(c.eval.rerank_k, 0);
  EXPECT_EQ(c.eval.best_metric, "zeroshot/top1");
  // The action task's keys.
  EXPECT_EQ(c.model.head.chunk, 1);
  EXPECT_EQ(c.model.head.bins, 0);
  EXPECT_EQ(c.model.head.hidden, 0);
  EXPECT_EQ(c.model.head.action_dims, 0);
  EXPECT_EQ(c.model.head.state_dims, 0);
  EXPECT_EQ(c.eval.actions.type, "episodes");
  EXPECT_EQ(c.eval.actions.path, "");
  EXPECT_EQ(c.eval.rollout.episodes, 0);
  EXPECT_EQ(c.eval.rollout.splits, "test,heldout");
  EXPECT_EQ(c.eval.rollout.frames, 4);
  EXPECT_EQ(c.eval.rollout.execute, 1);
}

TEST(ConfigDefaults, CommentOnlyFileAndEmptySectionsKeepDefaults) {
  const Config c = parse_config("# nothing yet\nmodel:\n  vision:\n", kSource);
  EXPECT_EQ(c.model.vision.width, 768);
}

TEST(ConfigDefaults, KeysGivenReplaceOnlyThemselves) {
  const Config c = parse_config("model:\n  vision: {width: 64, heads: 4}\noptim:\n  lr: 1e-3\n",
                                kSource);
  EXPECT_EQ(c.model.vision.width, 64);
  EXPECT_EQ(c.model.vision.heads, 4);
  EXPECT_EQ(c.model.vision.layers, 12);
  EXPECT_EQ(c.optim.lr, 1e-3);
}

TEST(ConfigErrors, UnknownKeySuggestsClosestKeyWithLine) {
  EXPECT_EQ(parse_error("model:\n  vision:\n    image_size: 64\n    widht: 3\n"),
            "configs/run.yaml:4: model.vision.widht: unknown key (did you mean 'width'?)");
  EXPECT_EQ(parse_error("modle: {}\n"),
            "configs/run.yaml:1: modle: unknown key (did you mean 'model'?)");
}

TEST(ConfigErrors, UnknownKeyFarFromAllListsValidKeys) {
  EXPECT_EQ(parse_error("run:\n  colour: red\n"),
            "configs/run.yaml:2: run.colour: unknown key "
            "(valid keys: name, output_dir, seed, threads, device)");
}

TEST(ConfigErrors, RepeatedKeyIsRefused) {
  EXPECT_EQ(parse_error("run:\n  seed: 1\n  seed: 2\n"),
            "configs/run.yaml:3: run.seed: repeated key (first at line 2)");
}

TEST(ConfigErrors, WrongTypeNamesKeyPathAndLine) {
  EXPECT_EQ(parse_error("model:\n  vision:\n    width: abc\n"),
            "configs/run.yaml:3: model.vision.width: expected an integer, found 'abc'");
  EXPECT_EQ(parse_error("train:\n  batch_size: 2.5\n"),
            "configs/run.yaml:2: train.batch_size: expected an integer, found '2.5'");
  EXPECT_EQ(parse_error("optim:\n  lr: fast\n"),
            "configs/run.yaml:2: optim.lr: expected a number, found 'fast'");
  EXPECT_EQ(parse_error("data:\n  augment:\n    flip: maybe\n"),
            "configs/run.yaml:3: data.augment.flip: expected true or false, found 'maybe'");
  EXPECT_EQ(parse_error("run:\n  name: [a, b]\n"),
            "configs/run.yaml:2: run.name: expected a string, found a list of 2 items");
  EXPECT_EQ(parse_error("optim:\n  betas: 0.9\n"),
            "configs/run.yaml:2: optim.betas: expected a list of 2 numbers, found '0.9'");
  EXPECT_EQ(parse_error("optim:\n  betas: [0.9, 0.98, 0.999]\n"),
            "configs/run.yaml:2: optim.betas: expected a list of 2 numbers, "
            "found a list of 3 items");
  EXPECT_EQ(parse_error("data:\n  mean:\n    - 0.5\n    - x\n    - 0.5\n"),
            "configs/run.yaml:4: data.mean[1]: expected a number, found 'x'");
  EXPECT_EQ(parse_error("model: 5\n"),
            "configs/run.yaml:1: model: expected a mapping, found '5'");
  EXPECT_EQ(parse_error("model:\n  vision:\n    width:\n"),
            "configs/run.yaml:3: model.vision.width: expected an integer, found an empty value");
  EXPECT_EQ(parse_error("run:\n  threads: 99999999999\n"),
            "configs/run.yaml:2: run.threads: expected an integer from -2147483648 to "
            "2147483647, found '99999999999'");
}

TEST(ConfigErrors, NonMappingTopLevelIsRefused) {
  EXPECT_EQ(parse_error("- run\n- data\n"),
            "configs/run.yaml:1: expected a mapping of sections (run, data, model, ...), "
            "found a list of 2 items");
}

TEST(ConfigErrors, OutOfRangeValuesNameKeyPathAndLine) {
  EXPECT_EQ(parse_error("run:\n  threads: -1\n"),
            "configs/run.yaml:2: run.threads: must be >= 0, found -1");
  EXPECT_EQ(parse_error("run:\n  device: gpu\n"),
            "configs/run.yaml:2: run.device: expected auto, cpu, cuda or cuda:N (N a device index), found 'gpu'");
  EXPECT_EQ(parse_error("run:\n  device: 'cuda:x'\n"),
            "configs/run.yaml:2: run.device: expected auto, cpu, cuda or cuda:N (N a device index), found 'cuda:x'");
  EXPECT_EQ(parse_error("run:\n  device: 'cuda:1'\n"), "(no error)");
  EXPECT_EQ(parse_error("data:\n  workers: -2\n"),
            "configs/run.yaml:2: data.workers: must be >= 0, found -2");
  EXPECT_EQ(parse_error("data:\n  train: {type: parquet}\n"),
            "configs/run.yaml:2: data.train.type: expected one of 'csv', 'jsonl', 'coco', 'vqa', "
            "'vqa_v2', 'episodes', 'webdataset', found 'parquet'");
  EXPECT_EQ(parse_error("data:\n  train:\n    separator: ab\n"),
            "configs/run.yaml:3: data.train.separator: expected exactly one character "
            "(e.g. ',' or '\\t'), found 'ab'");
  EXPECT_EQ(parse_error("data:\n  augment: {crop_scale: [0.5, 1.2]}\n"),
            "configs/run.yaml:2: data.augment.crop_scale: expected two numbers 0 < a <= b <= 1, "
            "found [0.5, 1.2]");
  EXPECT_EQ(parse_error("data:\n  augment: {crop_ratio: [1.5, 0.5]}\n"),
            "configs/run.yaml:2: data.augment.crop_ratio: expected two numbers 0 < a <= b, "
            "found [1.5, 0.5]");
  EXPECT_EQ(parse_error("data:\n  std: [0.2, 0, 0.2]\n"),
            "configs/run.yaml:2: data.std: expected positive numbers, found [0.2, 0, 0.2]");
  EXPECT_EQ(parse_error("tokenizer: {type: wordpiece}\n"),
            "configs/run.yaml:1: tokenizer.type: expected one of 'sentencepiece', 'clip_bpe', "
            "found 'wordpiece'");
  EXPECT_EQ(parse_error("model:\n  vision: {type: \"\"}\n"),
            "configs/run.yaml:2: model.vision.type: must not be empty");
  EXPECT_EQ(parse_error("model:\n  text:\n    layers: 0\n"),
            "configs/run.yaml:3: model.text.layers: must be positive, found 0");
  EXPECT_EQ(parse_error("model:\n  fusion: {type: middle}\n"),
            "configs/run.yaml:2: model.fusion.type: expected one of 'late', 'early', "
            "'cross_attention', found 'middle'");
  EXPECT_EQ(parse_error("optim:\n  lr: 0\n"),
            "configs/run.yaml:2: optim.lr: must be positive, found 0");
  EXPECT_EQ(parse_error("optim:\n  betas: [0.9, 1.0]\n"),
            "configs/run.yaml:2: optim.betas: expected numbers in [0, 1), found [0.9, 1]");
  EXPECT_EQ(parse_error("train:\n  precision: fp8\n"),
            "configs/run.yaml:2: train.precision: expected one of 'fp32', 'bf16', 'fp16', "
            "found 'fp8'");
  EXPECT_EQ(parse_error("train:\n  modality_dropout: 1.5\n"),
            "configs/run.yaml:2: train.modality_dropout: must be between 0 and 1, found 1.5");
  EXPECT_EQ(parse_error("train:\n  keep_last: 0\n"),
            "configs/run.yaml:2: train.keep_last: must be >= 1, found 0");
  EXPECT_EQ(parse_error("loss:\n  balance: learned\n"),
            "configs/run.yaml:2: loss.balance: expected one of 'fixed', 'uncertainty', "
            "found 'learned'");
  EXPECT_EQ(parse_error("eval:\n  every: -5\n"),
            "configs/run.yaml:2: eval.every: must be >= 0, found -5");
}

TEST(ConfigErrors, PatchSizeNotDividingImageSizeNamesBoth) {
  EXPECT_EQ(parse_error("model:\n  vision:\n    image_size: 64\n    patch_size: 10\n"),
            "configs/run.yaml:4: model.vision.patch_size: 10 does not divide "
            "model.vision.image_size 64");
}

TEST(ConfigErrors, RelationWithADefaultBlamesTheKeyGivenAndSaysDefault) {
  EXPECT_EQ(parse_error("model:\n  vision:\n    image_size: 100\n"),
            "configs/run.yaml:3: model.vision.image_size: 100 is not divisible by "
            "model.vision.patch_size 16 (default)");
  EXPECT_EQ(parse_error("model:\n  vision:\n    width: 100\n"),
            "configs/run.yaml:3: model.vision.width: 100 is not divisible by "
            "model.vision.heads 12 (default)");
  EXPECT_EQ(parse_error("model:\n  text: {heads: 7}\n"),
            "configs/run.yaml:2: model.text.heads: 7 does not divide "
            "model.text.width 512 (default)");
}

TEST(ConfigErrors, BatchSizeMustSplitIntoAccumSteps) {
  EXPECT_EQ(parse_error("train:\n  batch_size: 100\n  accum_steps: 3\n"),
            "configs/run.yaml:2: train.batch_size: 100 is not divisible by train.accum_steps 3");
}

TEST(ConfigErrors, ZeroEpochsWithoutStepsIsRefused) {
  EXPECT_EQ(parse_error("train:\n  epochs: 0\n"),
            "configs/run.yaml:2: train.epochs: must be at least 1 when train.steps is 0");
  EXPECT_EQ(parse_config("train: {epochs: 0, steps: 10}\n", kSource).train.steps, 10);
}

TEST(ConfigErrors, SyntaxErrorReportsLine) {
  EXPECT_EQ(parse_error("run:\n  name: x\noptim:\n  betas: [0.9, 0.98\ntrain: {}\n"),
            "configs/run.yaml:5: YAML syntax error: end of sequence flow not found");
}

TEST(ConfigErrors, MissingFileNamesPath) {
  try {
    load_config("/nonexistent/dir/run.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "/nonexistent/dir/run.yaml: cannot read config file: No such file or directory");
  }
}

TEST(ConfigErrors, DirectoryIsNotAConfigFile) {
  const std::string dir = testing::TempDir();
  try {
    load_config(dir);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), dir + ": cannot read config file: Is a directory");
  }
}

TEST(ConfigLoad, ReadsFileAndNamesItInMessages) {
  const std::string path = write_temp_file("load_config_test_run.yaml",
                                           "run:\n  name: exp1\nmodel:\n  embed_dim: -4\n");
  try {
    load_config(path);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), path + ":4: model.embed_dim: must be positive, found -4");
  }
  const Config c = load_config(path, {"model.embed_dim=256"});
  EXPECT_EQ(c.run.name, "exp1");
  EXPECT_EQ(c.model.embed_dim, 256);
  EXPECT_EQ(c.source, path);
  std::remove(path.c_str());
}

TEST(ConfigOverrides, SetNestedValuesOverTheFile) {
  const Config c = parse_config("model:\n  vision:\n    width: 64\n    heads: 4\n", kSource,
                                {"model.vision.width=128", "run.name=exp 2"});
  EXPECT_EQ(c.model.vision.width, 128);
  EXPECT_EQ(c.model.vision.heads, 4);
  EXPECT_EQ(c.run.name, "exp 2");
}

TEST(ConfigOverrides, LaterOverrideWins) {
  const Config c = parse_config("", kSource, {"run.seed=1", "run.seed=2"});
  EXPECT_EQ(c.run.seed, 2);
}

TEST(ConfigOverrides, SetListsAsYaml) {
  const Config c = parse_config("", kSource, {"optim.betas=[0.9,0.95]", "data.mean=[0.5, 0.5, 0.5]"});
  EXPECT_EQ(c.optim.betas, (std::vector<double>{0.9, 0.95}));
  EXPECT_EQ(c.data.mean, (std::vector<double>{0.5, 0.5, 0.5}));
}

TEST(ConfigOverrides, CreateMissingSectionsAndKeys) {
  const Config c = parse_config("run:\n  name: x\n", kSource,
                                {"model.fusion.type=cross_attention", "data.train.path=/d/train.csv",
                                 "model.vision={image_size: 32, patch_size: 8}"});
  EXPECT_EQ(c.model.fusion.type, "cross_attention");
  EXPECT_EQ(c.data.train.path, "/d/train.csv");
  EXPECT_EQ(c.model.vision.image_size, 32);
  EXPECT_EQ(c.model.vision.patch_size, 8);
}

TEST(ConfigOverrides, EmptyValueClearsAString) {
  const Config c = parse_config("tokenizer: {path: spm.model}\n", kSource, {"tokenizer.path="});
  EXPECT_EQ(c.tokenizer.path, "");
}

TEST(ConfigOverrides, UnknownKeyIsNamedWithSet) {
  EXPECT_EQ(parse_error("model:\n  vision:\n    width: 64\n", {"model.vision.widht=3"}),
            "--set model.vision.widht: unknown key (did you mean 'width'?)");
  EXPECT_EQ(parse_error("", {"modle.vision.width=3"}),
            "--set modle: unknown key (did you mean 'model'?)");
}

TEST(ConfigOverrides, BadValueIsNamedWithSetNotTheFileLine) {
  EXPECT_EQ(parse_error("model:\n  vision:\n    width: 64\n", {"model.vision.width=abc"}),
            "--set model.vision.width: expected an integer, found 'abc'");
  EXPECT_EQ(parse_error("", {"train.batch_size=100", "train.accum_steps=3"}),
            "--set train.batch_size: 100 is not divisible by train.accum_steps 3");
}

TEST(ConfigOverrides, MalformedOverridesAreRefused) {
  EXPECT_EQ(parse_error("", {"model.vision.width"}),
            "--set model.vision.width: expected KEY=VALUE, e.g. --set optim.lr=1e-4");
  EXPECT_EQ(parse_error("", {"=3"}), "--set =3: expected KEY=VALUE, e.g. --set optim.lr=1e-4");
  EXPECT_EQ(parse_error("", {"model..width=3"}), "--set model..width: empty name in the key path");
  EXPECT_EQ(parse_error("", {"optim.betas=[0.9"}),
            "--set optim.betas: YAML syntax error in the value: end of sequence flow not found");
}

TEST(ConfigOverrides, KeyPathCrossingAScalarIsRefused) {
  EXPECT_EQ(parse_error("run:\n  name: x\n", {"run.name.first=y"}),
            "--set run.name.first: run.name is 'x', not a mapping");
}

TEST(ConfigOverrides, TabSeparatorFromShellQuotedBackslashT) {
  // What the shell passes for --set data.train.separator='\t' (YAML: backslash, t).
  EXPECT_EQ(parse_config("", kSource, {"data.train.separator='\\t'"}).data.train.separator, "\t");
  // Unquoted, as from --set data.train.separator=\\t.
  EXPECT_EQ(parse_config("", kSource, {"data.train.separator=\\t"}).data.train.separator, "\t");
  // YAML double quotes make a real tab.
  EXPECT_EQ(parse_config("", kSource, {"data.train.separator=\"\\t\""}).data.train.separator,
            "\t");
  const Config c = parse_config("data:\n  train: {separator: \",\"}\n", kSource,
                                {"eval.zeroshot.separator=;", "eval.retrieval.separator='\\t'"});
  EXPECT_EQ(c.data.train.separator, ",");
  EXPECT_EQ(c.eval.zeroshot.separator, ";");
  EXPECT_EQ(c.eval.retrieval.separator, "\t");
}

TEST(ConfigLossTerms, KeepFileOrder) {
  const Config c = parse_config("loss:\n  terms: {itm: 0.5, clip: 1.0, siglip: 0}\n", kSource);
  EXPECT_EQ(terms_of(c), (Terms{{"itm", 0.5}, {"clip", 1.0}, {"siglip", 0.0}}));
}

TEST(ConfigLossTerms, OverrideAddsATermAtTheEnd) {
  const Config c = parse_config("loss:\n  terms: {clip: 1.0}\n", kSource, {"loss.terms.itm=0.25"});
  EXPECT_EQ(terms_of(c), (Terms{{"clip", 1.0}, {"itm", 0.25}}));
}

TEST(ConfigLossTerms, UnknownTermIsRefused) {
  EXPECT_EQ(parse_error("loss:\n  terms:\n    clip: 1.0\n    cllp: 0.5\n"),
            "configs/run.yaml:4: loss.terms.cllp: unknown loss term (did you mean 'clip'?)");
  EXPECT_EQ(parse_error("loss:\n  terms: {mse: 1.0}\n"),
            "configs/run.yaml:2: loss.terms.mse: unknown loss term "
            "(valid loss terms: clip, siglip, itm, caption, vqa, vqa_ce, vqa_point, action_l1, action_ce, action_point)");
}

TEST(ConfigLossTerms, GroupedAnswersAreRefusedThePerAnswerSigmoidTerm) {
  const std::string yaml = "model:\n  head: {type: vqa, answer_types: 8}\nloss:\n  terms: {vqa: 1.0}\n";
  const std::string message = parse_error(yaml);
  EXPECT_NE(message.find("loss.terms.vqa: model.head.answer_types gives the answers' log-probabilities; train them "
                         "with vqa_ce"),
            std::string::npos)
      << message;
  EXPECT_EQ(parse_config(yaml, kSource, {"loss.terms={vqa_ce: 1.0}"}).model.head.answer_types, 8);
}

TEST(ConfigLossTerms, NegativeWeightAndMissingTermsAreRefused) {
  EXPECT_EQ(parse_error("loss:\n  terms: {clip: -1}\n"),
            "configs/run.yaml:2: loss.terms.clip: must be >= 0, found -1");
  EXPECT_EQ(parse_error("loss:\n  terms: {}\n"),
            "configs/run.yaml:2: loss.terms: needs at least one term (clip, siglip, itm, caption, vqa, vqa_ce, vqa_point, action_l1, action_ce or action_point)");
  EXPECT_EQ(parse_error("loss:\n  terms: [clip]\n"),
            "configs/run.yaml:2: loss.terms: expected a mapping of term to weight "
            "(e.g. {clip: 1.0}), found a list of 1 item");
}

// Names chosen by name are checked against the registries, not against lists kept in config/.

TEST(ConfigRegistries, UnknownTowerTypesListTheRegisteredTypes) {
  EXPECT_EQ(parse_error("model:\n  vision: {type: vitt}\n"),
            "configs/run.yaml:2: model.vision.type: expected one of 'vit', 'resnet', 'convnet', found 'vitt'");
  EXPECT_EQ(parse_error("model:\n  text: {type: lstm}\n"),
            "configs/run.yaml:2: model.text.type: expected one of 'transformer', 'bow', found 'lstm'");
}

TEST(ConfigRegistries, AFusionTypeRegisteredByTheTestIsAccepted) {
  register_builtin_models();
  test::ScopedRegistration fusion(fusion_registry(), "test_late",
                                  FusionEntry{FusionDescriptor{}, [](const FusionConfig&, const FusionDims& dims) {
                                                return std::make_shared<LateFusionImpl>(dims);
                                              }});
  EXPECT_EQ(parse_config("model:\n  fusion: {type: test_late}\n", kSource).model.fusion.type, "test_late");
  EXPECT_EQ(parse_error("model:\n  fusion: {type: middle}\n"),
            "configs/run.yaml:2: model.fusion.type: expected one of 'late', 'early', 'cross_attention', "
            "'test_late', found 'middle'");
}

TEST(ConfigRegistries, ALossTermRegisteredByTheTestIsAcceptedAndListed) {
  register_builtin_loss_terms();
  test::ScopedRegistration term(loss_term_registry(), "zero",
                                LossTermEntry{LossTermDescriptor{}, [](const LossTermInputs& in) {
                                                return in.output.image_embeds.sum() * 0.0;
                                              }});
  EXPECT_EQ(terms_of(parse_config("loss:\n  terms: {clip: 1.0, zero: 0.5}\n", kSource)),
            (Terms{{"clip", 1.0}, {"zero", 0.5}}));
  EXPECT_EQ(parse_error("loss:\n  terms: {mse: 1.0}\n"),
            "configs/run.yaml:2: loss.terms.mse: unknown loss term (valid loss terms: clip, siglip, itm, caption, vqa, vqa_ce, vqa_point, action_l1, action_ce, action_point, zero)");
  EXPECT_EQ(parse_error("loss:\n  terms: {}\n"),
            "configs/run.yaml:2: loss.terms: needs at least one term (clip, siglip, itm, caption, vqa, vqa_ce, vqa_point, action_l1, action_ce, action_point or zero)");
}

Config non_default_config() {
  Config c;
  c.run.name = "123";  // reads as a number unless written quoted
  c.run.output_dir = "out dir: with colon";
  c.run.seed = -7;
  c.run.threads = 3;
  c.run.device = "cpu";
  c.data.train.type = "jsonl";
  c.data.train.path = "/data/train.jsonl";
  c.data.train.image_key = "image";
  c.data.train.caption_key = "caption,alt";
  c.data.train.image_root = "/images";
  c.data.train.num_samples = 12345;
  c.data.train.shuffle_buffer = 77;
  c.data.workers = 0;
  c.data.max_bad_fraction = 0.1;
  c.data.max_image_pixels = 1LL << 40;
  c.data.augment = {{0.3, 0.7}, {0.5, 2.0}, true, 0.4};
  c.data.mean = {0.1, 0.2, 0.30000000000000004};
  c.data.std = {1.0 / 3.0, 2e-10, 5.0};
  c.tokenizer = {"clip_bpe", "bpe_simple_vocab_16e6.txt.gz", 49408};
  c.model.embed_dim = 64;
  c.model.vision = {"vit", 32, 8, 48, 2, 4, 2.5, "quick_gelu", "mean"};
  c.model.text = {"transformer", 16, 32, 1, 2, 3.0, "quick_gelu"};
  c.model.fusion = {"cross_attention", 30, 1, 3};
  c.model.init_from = {"open_clip", "w.safetensors", "true", false, 0, 0, "visual.=vision."};
  c.model.lock = {true, false};
  c.loss.terms = {{"siglip", 1.0}, {"itm", 0.5}};
  c.loss.balance = "uncertainty";
  c.optim = {3e-4, 0.05, {0.8, 0.999}, 1e-8, 7, "constant", 1.0};
  c.train = {512, 4, 1000, 0, "bf16", 1, 0, 1, 0.25};
  c.eval.every = 100;
  c.eval.zeroshot = {"image_folder", "/z", "img", "y", ",", "names.txt", "t.txt"};
  c.eval.retrieval = {"coco", "/r.json", "f", "t", "|", "/coco/val2017", "question", "answers", ""};
  c.eval.rerank_k = 10;
  c.eval.batch_size = 32;
  c.eval.best_metric = "retrieval/image_to_text_R@1";
  return c;
}

TEST(ConfigWriting, RoundTripGivesTheSameConfig) {
  const Config c = non_default_config();
  const std::string yaml = config_to_yaml(c);
  const Config back = parse_config(yaml, "x");
  EXPECT_EQ(config_to_yaml(back), yaml);
  EXPECT_EQ(back.run.name, "123");
  EXPECT_EQ(back.run.output_dir, "out dir: with colon");
  EXPECT_EQ(back.data.train.separator, "\t");
  EXPECT_EQ(back.data.mean, c.data.mean);
  EXPECT_EQ(back.data.std, c.data.std);
  EXPECT_EQ(back.data.max_image_pixels, c.data.max_image_pixels);
  EXPECT_EQ(back.model.init_from.config, "true");
  EXPECT_FALSE(back.model.init_from.strict);
  EXPECT_EQ(terms_of(back), (Terms{{"siglip", 1.0}, {"itm", 0.5}}));
  EXPECT_EQ(back.optim.lr, 3e-4);
  EXPECT_EQ(back.train.precision, "bf16");
  EXPECT_EQ(back.eval.zeroshot.separator, ",");
  EXPECT_EQ(back.eval.best_metric, "retrieval/image_to_text_R@1");
}

// Found by the config fuzz target: a path holding carriage returns read back cut at the first.
TEST(ConfigWriting, StringsWithControlCharactersOrEdgeSpacesComeBackUnchanged) {
  Config c = non_default_config();
  c.eval.zeroshot.path = "odd.\r\r\rname";
  c.data.train.image_root = " leading and trailing ";
  c.run.name = "tab\there\x01";
  const Config back = parse_config(config_to_yaml(c), "x");
  EXPECT_EQ(back.eval.zeroshot.path, c.eval.zeroshot.path);
  EXPECT_EQ(back.data.train.image_root, c.data.train.image_root);
  EXPECT_EQ(back.run.name, c.run.name);
}

TEST(ConfigWriting, WritesEveryKeyInStructOrder) {
  const std::string yaml = config_to_yaml(Config{});
  EXPECT_EQ(parse_config(yaml, "x").model.vision.width, 768);
  const std::string text = "\n" + yaml;  // so that "\ntrain:" matches the section only
  size_t last = 0;
  for (const char* key : {"\nrun:", "\ndata:", "\ntokenizer:", "\nmodel:", "\nloss:",
                          "\noptim:", "\ntrain:", "\neval:", "\n  best_metric:"}) {
    const size_t at = text.find(key);
    ASSERT_NE(at, std::string::npos) << key;
    EXPECT_GE(at, last) << key;
    last = at;
  }
  EXPECT_NE(yaml.find("separator: \"\\t\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("terms: {clip: 1.0}"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("betas: [0.9, 0.98]"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("lr: 5.0e-04"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("eps: 1.0e-06"), std::string::npos) << yaml;
}

}  // namespace
}  // namespace mmtrain

namespace mmtrain {
namespace {

TEST(ConfigStageLayers, ResnetStagesReadAndRoundTripAsFourIntegers) {
  const Config config = parse_config("model:\n  vision: {type: resnet, stage_layers: [3, 4, 6, 3]}\n", "x.yaml");
  EXPECT_EQ(config.model.vision.stage_layers, (std::vector<int>{3, 4, 6, 3}));
  EXPECT_EQ(parse_config(config_to_yaml(config), "y.yaml").model.vision.stage_layers, config.model.vision.stage_layers);
}

TEST(ConfigFusion, MlpRatioIsReadAndRoundTrips) {
  const Config config = parse_config("model:\n  fusion: {type: early, mlp_ratio: 2.0}\n", kSource);
  EXPECT_EQ(config.model.fusion.mlp_ratio, 2.0);
  EXPECT_EQ(parse_config(config_to_yaml(config), "y.yaml").model.fusion.mlp_ratio, 2.0);
}

TEST(ConfigFusion, MlpRatioMustBePositive) {
  EXPECT_EQ(parse_error("model:\n  fusion: {type: early, mlp_ratio: 0}\n"),
            "configs/run.yaml:2: model.fusion.mlp_ratio: must be positive, found 0");
}

TEST(ConfigStageLayers, WrongLengthZeroOrFractionalStagesNameTheKey) {
  for (const char* stages : {"[3, 4, 6]", "[3, 0, 6, 3]", "[3, 4.5, 6, 3]"}) {
    try {
      parse_config(std::string("model:\n  vision: {stage_layers: ") + stages + "}\n", "x.yaml");
      ADD_FAILURE() << "accepted " << stages;
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find("x.yaml:2: model.vision.stage_layers"), std::string::npos)
          << error.what();
    }
  }
}

}  // namespace
}  // namespace mmtrain
