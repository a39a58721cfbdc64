#include "mmtrain/train/checkpoint.h"

#include <torch/cuda.h>
#include <torch/optim/adamw.h>

#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mmtrain/ops/generator_state.h"
#include "mmtrain/runtime/libtorch_compat.h"

namespace mmtrain {

namespace {

// Keys of the trainer's entries; the file format stores them without looking inside.
// "optimizer/adamw/<parameter name>/<field>": AdamW's state keyed by the parameter's name, so that
// it loads whatever LibTorch wrote it (LibTorch's own optimizer.save keys state by a TensorImpl
// address, a hex string in 1.13 and a decimal one in 2.x) and onto any device.
const char* const kAdamWPrefix = "optimizer/adamw/";
// Written by mmtrain before the name-keyed state: LibTorch 1.13's optimizer.save archive.
const char* const kLegacyOptimizerKey = "optimizer";
const char* const kTorchRngKey = "rng/torch";
const char* const kCudaRngPrefix = "rng/cuda/";
const char* const kLossScaleKey = "amp/scale";
const char* const kGrowthTrackerKey = "amp/growth_tracker";

template <typename F>
void for_each_named_parameter(torch::nn::Module& model, torch::optim::Optimizer& optimizer, F&& f) {
  std::unordered_map<const void*, std::string> names;
  for (const auto& item : model.named_parameters()) names.emplace(item.value().unsafeGetTensorImpl(), item.key());
  for (auto& group : optimizer.param_groups()) {
    for (auto& parameter : group.params()) {
      const auto found = names.find(parameter.unsafeGetTensorImpl());
      if (found == names.end()) throw std::logic_error("optimizer holds a parameter the model does not name");
      f(found->second, parameter);
    }
  }
}

void write_adamw_state(torch::serialize::OutputArchive& archive, torch::nn::Module& model,
                       torch::optim::Optimizer& optimizer) {
  for_each_named_parameter(model, optimizer, [&](const std::string& name, const torch::Tensor& parameter) {
    const auto found = optimizer.state().find(compat::optimizer_state_key(parameter));
    if (found == optimizer.state().end()) return;  // no step taken with a gradient for it yet
    const auto& state = static_cast<const torch::optim::AdamWParamState&>(*found->second);
    const std::string key = kAdamWPrefix + name + "/";
    archive.write(key + "step", c10::IValue(state.step()));
    archive.write(key + "exp_avg", state.exp_avg().cpu());
    archive.write(key + "exp_avg_sq", state.exp_avg_sq().cpu());
    if (state.max_exp_avg_sq().defined()) archive.write(key + "max_exp_avg_sq", state.max_exp_avg_sq().cpu());
  });
}

// The generators a checkpoint keeps, by key: LibTorch's CPU one, then one per CUDA device this
// process sees.
std::vector<std::pair<std::string, c10::Device>> generators() {
  std::vector<std::pair<std::string, c10::Device>> list{{kTorchRngKey, c10::Device(c10::kCPU)}};
  for (int64_t i = 0; i < static_cast<int64_t>(torch::cuda::device_count()); ++i) {
    list.emplace_back(kCudaRngPrefix + std::to_string(i), c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i)));
  }
  return list;
}

void write_rng_states(torch::serialize::OutputArchive& archive) {
  for (const auto& [key, device] : generators()) archive.write(key, generator_state(device));
}

void read_adamw_state(const Checkpoint& checkpoint, torch::nn::Module& model, torch::optim::Optimizer& optimizer) {
  for_each_named_parameter(model, optimizer, [&](const std::string& name, const torch::Tensor& parameter) {
    const std::string key = kAdamWPrefix + name + "/";
    c10::IValue step;
    if (!checkpoint.read_entry(key + "step", step)) return;
    auto read = [&](const char* field, bool required) {
      torch::Tensor value;
      if (!checkpoint.read_entry(key + field, value)) {
        if (required) throw std::runtime_error(checkpoint.path() + ": optimizer state of '" + name + "' lacks " + field);
        return value;
      }
      if (value.sizes() != parameter.sizes()) {
        throw std::runtime_error(checkpoint.path() + ": optimizer state '" + key + field + "' does not match the " +
                                 "parameter's shape");
      }
      return value.to(parameter.device());
    };
    auto state = std::make_unique<torch::optim::AdamWParamState>();
    state->step(step.toInt());
    state->exp_avg(read("exp_avg", true));
    state->exp_avg_sq(read("exp_avg_sq", true));
    const auto max_exp_avg_sq = read("max_exp_avg_sq", false);
    if (max_exp_avg_sq.defined()) state->max_exp_avg_sq(max_exp_avg_sq);
    optimizer.state()[compat::optimizer_state_key(parameter)] = std::move(state);
  });
}

}  // namespace

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     const CheckpointMeta& meta, const LossScaler* scaler) {
  write_checkpoint_file(path, model, meta, [&](torch::serialize::OutputArchive& archive) {
    write_rng_states(archive);
    if (scaler != nullptr && scaler->enabled()) {
      archive.write(kLossScaleKey, c10::IValue(scaler->scale()));
      archive.write(kGrowthTrackerKey, c10::IValue(scaler->growth_tracker()));
    }
    archive.write(std::string(kAdamWPrefix) + "version", c10::IValue(int64_t{1}));
    write_adamw_state(archive, model, optimizer);
  });
}

void restore_optimizer(const Checkpoint& checkpoint, torch::nn::Module& model, torch::optim::Optimizer& optimizer) {
  c10::IValue version;
  if (checkpoint.read_entry(std::string(kAdamWPrefix) + "version", version)) {
    optimizer.state().clear();
    read_adamw_state(checkpoint, model, optimizer);
    return;
  }
  torch::serialize::InputArchive legacy;
  if (!checkpoint.read_entry(kLegacyOptimizerKey, legacy)) {
    throw std::runtime_error(checkpoint.path() + ": holds no optimizer state (a weights-only checkpoint?)");
  }
#if MMTRAIN_LIBTORCH_2
  throw std::runtime_error(checkpoint.path() + ": its optimizer state is in LibTorch 1.13's own layout, which "
                           "LibTorch 2.x cannot map to parameters; resume it with the 1.13 build once (its next "
                           "checkpoint is readable by both), or start from its weights with model.init_from");
#else
  optimizer.load(legacy);
#endif
}

void restore_rng(const Checkpoint& checkpoint) {
  for (const auto& [key, device] : generators()) {
    torch::Tensor state;
    if (!checkpoint.read_entry(key, state)) {
      if (device.is_cpu()) {
        throw std::runtime_error(checkpoint.path() + ": holds no RNG state (a weights-only checkpoint?)");
      }
      continue;  // CUDA streams of a run written on another host or without a GPU stay as seeded
    }
    set_generator_state(device, state);
  }
}

void restore_loss_scaler(const Checkpoint& checkpoint, LossScaler& scaler) {
  c10::IValue scale, tracker;
  if (checkpoint.read_entry(kLossScaleKey, scale) && checkpoint.read_entry(kGrowthTrackerKey, tracker)) {
    scaler.restore(scale.toDouble(), tracker.toInt());
  }
}

}  // namespace mmtrain
