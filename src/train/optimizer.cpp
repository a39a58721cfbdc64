#include "mmtrain/train/optimizer.h"

#include <vector>

namespace mmtrain {

bool is_decayed(const std::string& name, const torch::Tensor& parameter) {
  if (parameter.dim() < 2) return false;
  for (const char* exempt : {"embedding", "ln_", "logit_scale", "bias"}) {
    if (name.find(exempt) != std::string::npos) return false;
  }
  return true;
}

std::unique_ptr<FusedAdamW> build_optimizer(torch::nn::Module& model, const OptimConfig& config) {
  std::vector<torch::Tensor> decayed, exempt;
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    (is_decayed(item.key(), item.value()) ? decayed : exempt).push_back(item.value());
  }
  auto options = [&](double weight_decay) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(config.lr)
            .betas({config.betas[0], config.betas[1]})
            .eps(config.eps)
            .weight_decay(weight_decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, options(config.weight_decay));
  groups.emplace_back(exempt, options(0.0));
  return std::make_unique<FusedAdamW>(groups, torch::optim::AdamWOptions(config.lr));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

void clear_gradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups()) {
    for (auto& parameter : group.params()) parameter.mutable_grad() = torch::Tensor();
  }
}

}  // namespace mmtrain
