// Embedding many images or texts with a model, batch by batch, without gradients: what zero-shot,
// retrieval and the `embed` command share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/data/dataset.h"
#include "mmtrain/data/transforms.h"
#include "mmtrain/models/multimodal_model.h"
#include "mmtrain/text/tokenizer.h"

namespace mmtrain {

struct EmbedContext {
  MultimodalModel model{nullptr};
  std::shared_ptr<const Tokenizer> tokenizer;
  TransformOptions transform;  // eval transform of the model's image size
  int context_length = 77;
  int workers = 2;
  int64_t batch_size = 256;
  torch::Device device = torch::kCPU;
};

// Eval transform at the model's image size, context length, workers and eval batch size from config.
EmbedContext make_embed_context(const Config& config, MultimodalModel model,
                                std::shared_ptr<const Tokenizer> tokenizer, torch::Device device);

// Rows in the data set's order: [N,E] float32, L2-normalised, on the CPU.
torch::Tensor embed_images(EmbedContext& context, std::shared_ptr<const PairDataset> images);
torch::Tensor embed_texts(EmbedContext& context, const std::vector<std::string>& texts);

}  // namespace mmtrain
