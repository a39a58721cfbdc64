// Embedding many images or texts with a model, batch by batch, without gradients: what zero-shot,
// retrieval and the `embed` command share.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/data/action_space.h"
#include "mmtrain/data/answer_vocab.h"
#include "mmtrain/data/dataset.h"
#include "mmtrain/data/transforms.h"
#include "mmtrain/eval/degrade.h"
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
  Degradation degradation = Degradation::kNone;  // applied to every image batch (eval/degrade.h)
  uint64_t seed = 0;                             // run.seed: what the degradation draws from
  std::shared_ptr<const AnswerVocab> answers;    // a vqa head's vocabulary (the checkpoint's); null otherwise
  std::shared_ptr<const ActionSpace> actions;    // an action head's space (the checkpoint's); null otherwise
};

// Eval transform at the model's image size, context length, workers and eval batch size from config.
EmbedContext make_embed_context(const Config& config, MultimodalModel model,
                                std::shared_ptr<const Tokenizer> tokenizer, torch::Device device);

// Rows in the data set's order: [N,E] float32, L2-normalised, on the CPU.
torch::Tensor embed_images(EmbedContext& context, std::shared_ptr<const PairDataset> images);
torch::Tensor embed_texts(EmbedContext& context, const std::vector<std::string>& texts);

// A whole set's embeddings and, for re-ranking with a fused match head, its tower outputs (on the
// CPU: [N,T,D] per set, which is why they are kept only when asked for).
struct EncodedSet {
  torch::Tensor embeds;  // [N,E] float32, L2-normalised
  Encoded encoded;       // tokens [N,T,D], pooled [N,D], pad_mask [N,T] (texts); undefined unless kept

  Encoded rows(const torch::Tensor& index, torch::Device device) const;  // index [P] -> P rows
};

struct LoaderOptions;  // data/loader.h

// An evaluation pass over a set: every row once, in order, eval-transformed, in batches of
// context.batch_size on context.workers threads (the context length is the model's).
LoaderOptions eval_loader_options(const EmbedContext& context);

// The set's images in order, eval-transformed, in batches of context.batch_size on the model's
// device, without gradients and with the model in eval mode. An unreadable image fails the whole
// set (a DataError naming the file): evaluation sets are meant to be clean.
void for_each_image_batch(EmbedContext& context, std::shared_ptr<const PairDataset> images,
                          const std::function<void(const torch::Tensor&)>& consume);

EncodedSet encode_image_set(EmbedContext& context, std::shared_ptr<const PairDataset> images,
                            bool keep_encoded);
EncodedSet encode_text_set(EmbedContext& context, const std::vector<std::string>& texts,
                           bool keep_encoded);

}  // namespace mmtrain
