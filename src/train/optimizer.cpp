#include "mmtrain/train/optimizer.h"

#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "mmtrain/models/multimodal_model.h"

namespace mmtrain {

bool is_decayed(const std::string& name, const torch::Tensor& parameter) {
  if (parameter.dim() < 2) return false;
  for (const char* exempt : {"embedding", "ln_", "logit_scale", "bias"}) {
    if (name.find(exempt) != std::string::npos) return false;
  }
  return true;
}

namespace {

void add_layer_decay(LrScales& scales, const std::vector<DepthGroup>& groups, double decay, const char* side) {
  for (size_t i = 0; i < groups.size(); ++i) {
    const double scale = std::pow(decay, static_cast<double>(groups.size() - 1 - i));
    for (const auto& p : groups[i].parameters) scales[p.unsafeGetTensorImpl()] = scale;
    spdlog::info("optim.layer_decay: {} {}: lr x {:.4g}", side, groups[i].name, scale);
  }
}

}  // namespace

LrScales layer_decay_scales(MultimodalModelImpl& model, double decay) {
  LrScales scales;
  if (decay >= 1.0) return scales;
  add_layer_decay(scales, model.vision_depth_groups(), decay, "vision");
  add_layer_decay(scales, model.text_depth_groups(), decay, "text");
  return scales;
}

std::unique_ptr<FusedAdamW> build_optimizer(torch::nn::Module& model, const OptimConfig& config,
                                            const LrScales& lr_scales) {
  // (decayed first, then by multiplier, highest first): one group per pair that occurs.
  std::map<std::pair<bool, double>, std::vector<torch::Tensor>, std::greater<>> split;
  split[{true, 1.0}];
  split[{false, 1.0}];
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    const auto found = lr_scales.find(item.value().unsafeGetTensorImpl());
    const double scale = found == lr_scales.end() ? 1.0 : found->second;
    split[{is_decayed(item.key(), item.value()), scale}].push_back(item.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  std::vector<double> scales;
  for (auto& [key, parameters] : split) {
    if (parameters.empty() && key.second != 1.0) continue;
    auto options = std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(config.lr * key.second)
                                                                    .betas({config.betas[0], config.betas[1]})
                                                                    .eps(config.eps)
                                                                    .weight_decay(key.first ? config.weight_decay : 0.0));
    groups.emplace_back(std::move(parameters), std::move(options));
    scales.push_back(key.second);
  }
  auto optimizer = std::make_unique<FusedAdamW>(groups, torch::optim::AdamWOptions(config.lr));
  optimizer->set_lr_scales(std::move(scales));
  return optimizer;
}

void set_learning_rate(FusedAdamW& optimizer, double lr) {
  auto& groups = optimizer.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(lr * optimizer.lr_scale(i));
}

void clear_gradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups()) {
    for (auto& parameter : group.params()) parameter.mutable_grad() = torch::Tensor();
  }
}

}  // namespace mmtrain
