// Checkpoint files: everything needed to continue bit for bit or to evaluate with nothing else
// (config, tokenizer, model, optimizer, position in the data, RNG). Layout: a fixed header
// (magic, format version, payload size, FNV-1a 64 checksum) then a LibTorch archive. Files are
// written to a temp file, fsync'ed and renamed, so a crash never leaves a partial file in place.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>

namespace mmtrain {

constexpr uint32_t kCheckpointVersion = 1;

struct TrainState {
  int64_t step = 0;            // optimizer steps done
  int64_t epoch = 0;           // epoch in progress
  int64_t batch_in_epoch = 0;  // batches of that epoch already consumed
  double best_metric = -1.0;   // best eval.best_metric so far (-1: none yet)
};

struct CheckpointMeta {
  uint32_t version = kCheckpointVersion;
  std::string config_yaml;  // the resolved config
  std::string tokenizer_type;
  std::string tokenizer_bytes;
  TrainState state;
};

class Checkpoint {
 public:
  // Verifies header and checksum; throws std::runtime_error naming the file on any mismatch.
  static Checkpoint load(const std::string& path);

  const CheckpointMeta& meta() const { return meta_; }
  // Copies every parameter and buffer; a missing key or a shape mismatch throws, naming it.
  void restore_model(torch::nn::Module& model) const;
  void restore_optimizer(torch::optim::Optimizer& optimizer) const;
  // Every model tensor by parameter or buffer name (fine-tuning loads these non-strictly).
  std::map<std::string, torch::Tensor> model_tensors() const;
  void restore_rng() const;
  bool has_optimizer() const;

 private:
  std::string path_;
  CheckpointMeta meta_;
  std::shared_ptr<torch::serialize::InputArchive> archive_;
};

// optimizer may be null (weights-only checkpoints, e.g. from convert). Throws std::runtime_error
// naming the file when it cannot be written (full disk); an older file at `path` stays intact.
void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer* optimizer, const CheckpointMeta& meta);

}  // namespace mmtrain
