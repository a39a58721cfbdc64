// Checkpoint files: everything needed to continue bit for bit or to evaluate with nothing else
// (config, tokenizer, model, position in the data, and the trainer's optimizer and RNG state).
// Layout: a fixed header (magic, format version, payload size, FNV-1a 64 checksum) then a LibTorch
// archive. Files are written to a temp file, fsync'ed and renamed, so a crash never leaves a
// partial file in place. This is the format and what evaluation reads; the trainer's own entries
// are written and restored by train/checkpoint.h, so that readers need nothing from train/.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

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
  // A VQA head's answer vocabulary, one answer per line (AnswerVocab::to_text); "" without one.
  // Optional in the file: older checkpoints have none.
  std::string answers;
  // An action head's ActionSpace (ActionSpace::to_text); "" without one. Optional like answers.
  std::string actions;
  TrainState state;
};

class Checkpoint {
 public:
  // Verifies header and checksum; throws std::runtime_error naming the file on any mismatch.
  static Checkpoint load(const std::string& path);

  const std::string& path() const { return path_; }
  const CheckpointMeta& meta() const { return meta_; }
  // Copies every parameter and buffer; a missing key or a shape mismatch throws, naming it.
  void restore_model(torch::nn::Module& model) const;
  // Every model tensor by parameter or buffer name (fine-tuning loads these non-strictly).
  std::map<std::string, torch::Tensor> model_tensors() const;
  // Entries the format stores without interpreting them (the trainer's optimizer and RNG state);
  // false when the file has nothing under `key`.
  bool read_entry(const std::string& key, torch::Tensor& tensor) const;
  bool read_entry(const std::string& key, torch::serialize::InputArchive& archive) const;
  bool read_entry(const std::string& key, c10::IValue& value) const;

 private:
  std::string path_;
  CheckpointMeta meta_;
  std::shared_ptr<torch::serialize::InputArchive> archive_;
};

// Adds entries beyond meta and model to a checkpoint being written (keys must not start with
// "meta/", "state/" or "model/").
using ExtraCheckpointEntries = std::function<void(torch::serialize::OutputArchive&)>;

// Meta, model and `extra`; without `extra`, a weights-only checkpoint (e.g. from convert) that
// evaluation, embedding and model.init_from read but --resume refuses. Throws std::runtime_error
// naming the file when it cannot be written (full disk); an older file at `path` stays intact.
void write_checkpoint_file(const std::string& path, torch::nn::Module& model, const CheckpointMeta& meta,
                           const ExtraCheckpointEntries& extra = {});

}  // namespace mmtrain
