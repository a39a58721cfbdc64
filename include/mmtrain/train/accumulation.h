// Gradient accumulation that keeps every contrastive negative of the whole batch: embed all
// micro-batches without gradient, then recompute each micro-batch with gradient against the
// cached embeddings of the others. The sum of the micro-batch gradients equals the gradient of
// the full batch (the logit scale's share is divided by the micro-batch count, since every
// micro-batch's loss sees it whole).
#pragma once

#include <functional>

#include <string>

#include "mmtrain/losses/loss.h"
#include "mmtrain/models/multimodal_model.h"

namespace mmtrain {

// Seconds spent in forward (loss included) and backward passes, accumulated across calls.
struct PhaseTimes {
  double forward = 0.0;
  double backward = 0.0;
};

// images [B,3,S,S], tokens [B,L], task: the task heads' tensors (answers, state, actions; each
// may be undefined); B divisible by micro_batches. Calls backward() on the loss
// times loss_scale (fp16's loss scaler; the gradients come out scaled by it); returns the
// unscaled loss of the full batch (undefined gradients are left to the caller to check).
LossResult accumulate_gradients(MultimodalModelImpl& model, const LossConfig& loss, const torch::Tensor& images,
                                const torch::Tensor& tokens, int micro_batches, const std::string& precision,
                                PhaseTimes* times = nullptr, double loss_scale = 1.0, const MissingInputs& missing = {},
                                const TaskTensors& task = {});

// The same without accumulation: one forward and backward. Returns the loss; a non-finite loss
// is returned before backward.
// Gathers every rank's embeddings (with gradient) for a contrastive loss over the global batch.
using EmbeddingGather = std::function<GlobalEmbeddings(const ModelOutput&)>;

// `gather` empty: the batch is all on this process.
LossResult forward_backward(MultimodalModelImpl& model, const LossConfig& loss, const torch::Tensor& images,
                            const torch::Tensor& tokens, const std::string& precision,
                            PhaseTimes* times = nullptr, const EmbeddingGather& gather = {},
                            double loss_scale = 1.0, const MissingInputs& missing = {},
                            const TaskTensors& task = {});

}  // namespace mmtrain
