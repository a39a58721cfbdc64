// Towers beyond the ViT/transformer pair: resnet (CLIP's ModifiedResNet) and convnet for images,
// bow (bag of words) for text.
#pragma once

namespace mmtrain {

// Registers resnet, convnet and bow in the tower registries of models/registry.h. Safe to call
// more than once.
void register_zoo_towers();

}  // namespace mmtrain
