// A tower's parameters by depth, in open_clip's lock groups: partial unlocking
// (model.lock.*_unlocked_*) and layer-wise learning rates (optim.layer_decay) both count them from
// the top, so that one grouping serves both and matches open_clip's count.
#pragma once

#include <string>
#include <vector>

#include <torch/nn/module.h>

namespace mmtrain {

class TransformerImpl;

struct DepthGroup {
  std::string name;  // for the log: "embeddings", "block 3", "block 5 + final norm", "projection"
  std::vector<torch::Tensor> parameters;
};

// Bottom to top: [embeddings], one group per block but the last, [last block + top] — open_clip's
// groups for its ViT and text transformer without the projection (the fusion holds that).
std::vector<DepthGroup> transformer_depth_groups(std::vector<torch::Tensor> embeddings, TransformerImpl& transformer,
                                                 std::vector<torch::Tensor> top);

// All parameters of the modules, in order.
std::vector<torch::Tensor> parameters_of(std::initializer_list<const torch::nn::Module*> modules);

// Marks the last `count` groups trainable (every parameter of the rest was frozen before).
void unlock_top_groups(std::vector<DepthGroup>& groups, int count);

}  // namespace mmtrain
