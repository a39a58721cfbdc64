#include "mmtrain/train/checkpoint.h"

#include <mutex>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>

namespace mmtrain {

namespace {

// Keys of the trainer's entries; the file format stores them without looking inside.
const char* const kOptimizerKey = "optimizer";
const char* const kTorchRngKey = "rng/torch";

}  // namespace

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     const CheckpointMeta& meta) {
  write_checkpoint_file(path, model, meta, [&](torch::serialize::OutputArchive& archive) {
    {
      auto generator = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(generator.mutex());
      archive.write(kTorchRngKey, generator.get_state());
    }
    torch::serialize::OutputArchive optimizer_archive;
    optimizer.save(optimizer_archive);
    archive.write(kOptimizerKey, optimizer_archive);
  });
}

void restore_optimizer(const Checkpoint& checkpoint, torch::optim::Optimizer& optimizer) {
  torch::serialize::InputArchive optimizer_archive;
  if (!checkpoint.read_entry(kOptimizerKey, optimizer_archive)) {
    throw std::runtime_error(checkpoint.path() + ": holds no optimizer state (a weights-only checkpoint?)");
  }
  optimizer.load(optimizer_archive);
}

void restore_rng(const Checkpoint& checkpoint) {
  torch::Tensor state;
  if (!checkpoint.read_entry(kTorchRngKey, state)) {
    throw std::runtime_error(checkpoint.path() + ": holds no RNG state (a weights-only checkpoint?)");
  }
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

}  // namespace mmtrain
