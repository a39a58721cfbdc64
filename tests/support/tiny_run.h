// A small synthetic data set and a model small enough to train in seconds: what the training,
// resume and command-line tests share.
#pragma once

#include <string>

#include "mmtrain/config/config.h"
#include "mmtrain/data/synthetic.h"

namespace mmtrain::test {

// Writes the built-in data set (n pairs, 32 px) under `folder`/data.
inline std::string write_tiny_data(const std::string& folder, int64_t n = 256, int eval_per_class = 4) {
  SynthOptions options;
  options.n = n;
  options.image_size = 32;
  options.eval_per_class = eval_per_class;
  options.retrieval_n = 48;
  const std::string data = folder + "/data";
  write_synthetic_dataset(data, options);
  return data;
}

// A 2-layer ViT/transformer CLIP on 32 px images, runs under `folder`/runs.
inline Config tiny_config(const std::string& folder, const std::string& data, int64_t steps) {
  Config c;
  c.run.output_dir = folder + "/runs";
  c.run.name = "tiny";
  c.run.threads = 2;
  c.data.train.path = data + "/train.csv";
  c.data.workers = 2;
  c.tokenizer.vocab_size = 128;
  c.model.embed_dim = 32;
  c.model.vision = VisionConfig{"vit", 32, 8, 32, 2, 2, 4.0, "gelu", "cls"};
  c.model.text = TextConfig{"transformer", 16, 32, 2, 2, 4.0, "gelu"};
  c.optim.lr = 2e-3;
  c.optim.warmup_steps = 5;
  c.train.batch_size = 32;
  c.train.steps = steps;
  c.train.log_every = 1;
  c.train.checkpoint_every = 0;
  c.eval.zeroshot.path = data + "/zeroshot_seen.csv";
  c.eval.zeroshot.classnames = data + "/classnames.txt";
  c.eval.zeroshot.templates = data + "/templates.txt";
  c.eval.retrieval.path = data + "/retrieval.csv";
  return c;
}

}  // namespace mmtrain::test
