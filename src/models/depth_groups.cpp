#include "mmtrain/models/depth_groups.h"

#include <algorithm>

#include "mmtrain/models/transformer.h"

namespace mmtrain {

std::vector<torch::Tensor> parameters_of(std::initializer_list<const torch::nn::Module*> modules) {
  std::vector<torch::Tensor> parameters;
  for (const auto* module : modules) {
    if (module == nullptr) continue;
    const auto own = module->parameters();
    parameters.insert(parameters.end(), own.begin(), own.end());
  }
  return parameters;
}

std::vector<DepthGroup> transformer_depth_groups(std::vector<torch::Tensor> embeddings, TransformerImpl& transformer,
                                                 std::vector<torch::Tensor> top) {
  std::vector<DepthGroup> groups{{"embeddings", std::move(embeddings)}};
  const auto blocks = transformer.blocks();
  for (size_t i = 0; i < blocks.size(); ++i) {
    DepthGroup group{"block " + std::to_string(i), blocks[i]->parameters()};
    if (i + 1 == blocks.size()) {
      group.name += " + final norm";
      group.parameters.insert(group.parameters.end(), top.begin(), top.end());
    }
    groups.push_back(std::move(group));
  }
  if (blocks.empty()) groups.push_back({"final norm", std::move(top)});
  return groups;
}

void unlock_top_groups(std::vector<DepthGroup>& groups, int count) {
  const size_t unlocked = std::min(groups.size(), static_cast<size_t>(std::max(count, 0)));
  for (size_t i = groups.size() - unlocked; i < groups.size(); ++i) {
    for (auto& p : groups[i].parameters) p.requires_grad_(true);
  }
}

}  // namespace mmtrain
