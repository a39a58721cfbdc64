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

// The same small run as a YAML file's text, for tests that drive the binary over several processes
// or devices: 8 steps of a global batch of 64 from `data` (written by `data synth --n 256
// --image-size 32`), runs under `runs`. `run_extra`: more keys of the run section.
// Attention's key bias has a true gradient of zero (softmax ignores it); Adam with eps 1e-6 turns
// its rounding noise (~1e-9) into updates of ~lr/1000 that differ with summation order (measured:
// 1.6e-3 of in_proj_bias's norm after 8 steps, every other tensor within 1e-5). eps 1e-3 keeps
// that noise below the tolerance of tests comparing processes or devices.
inline std::string small_run_yaml(const std::string& data, const std::string& runs, const std::string& run_extra = "") {
  return "run: {output_dir: " + runs + ", seed: 3, threads: 1" + run_extra + "}\n"
         "data: {train: {path: " + data + "/train.csv}, workers: 1}\n"
         "tokenizer: {vocab_size: 128}\n"
         "model:\n  embed_dim: 32\n"
         "  vision: {image_size: 32, patch_size: 8, width: 32, layers: 2, heads: 2}\n"
         "  text: {context_length: 16, width: 32, layers: 2, heads: 2}\n"
         "optim: {lr: 2.0e-3, warmup_steps: 2, eps: 1.0e-3}\n"
         "train: {batch_size: 64, steps: 8, log_every: 1, checkpoint_every: 0}\n";
}

}  // namespace mmtrain::test
