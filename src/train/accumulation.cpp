#include "mmtrain/train/accumulation.h"

#include <chrono>
#include <cmath>

#include "mmtrain/ops/generator_state.h"
#include "mmtrain/ops/precision.h"

namespace mmtrain {

namespace {

// The full batch's embeddings with micro-batch k's rows live (with gradient), the rest cached.
torch::Tensor splice(const std::vector<torch::Tensor>& cached, const torch::Tensor& live, size_t k) {
  std::vector<torch::Tensor> parts(cached);
  parts[k] = live;
  return torch::cat(parts);
}

// Adds the seconds from construction to destruction to *slot (when there is one).
class PhaseTimer {
 public:
  explicit PhaseTimer(double* slot) : slot_(slot), start_(std::chrono::steady_clock::now()) {}
  ~PhaseTimer() {
    if (slot_) *slot_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  double* slot_;
  std::chrono::steady_clock::time_point start_;
};

double* forward_slot(PhaseTimes* times) { return times ? &times->forward : nullptr; }
double* backward_slot(PhaseTimes* times) { return times ? &times->backward : nullptr; }

void backward(const torch::Tensor& loss, double loss_scale) {
  (loss_scale == 1.0 ? loss : loss * loss_scale).backward();
}

}  // namespace

LossResult forward_backward(MultimodalModelImpl& model, const LossConfig& loss, const torch::Tensor& images,
                            const torch::Tensor& tokens, const std::string& precision, PhaseTimes* times,
                            const EmbeddingGather& gather, double loss_scale, const MissingInputs& missing,
                            const TaskTensors& task) {
  LossResult result;
  {
    PhaseTimer timer(forward_slot(times));
    AutocastScope autocast(precision, images.device());
    ModelOutput output = model.forward(images, tokens, missing);
    output.task = task;
    if (gather) {
      const GlobalEmbeddings global = gather(output);
      result = compute_loss(loss, output, model, &global);
    } else {
      result = compute_loss(loss, output, model);
    }
  }
  // With a gather, backward is a collective every rank must join; the ranks then agree on
  // skipping the step from the averaged loss and gradients. On a GPU the early look would cost a
  // host sync every step; a non-finite loss is caught after backward there (the caller skips the
  // step on it, and its gradients are non-finite too).
  if (!gather && !result.total.is_cuda() && !std::isfinite(result.total.item<double>())) return result;
  PhaseTimer timer(backward_slot(times));
  backward(result.total, loss_scale);
  return result;
}

LossResult accumulate_gradients(MultimodalModelImpl& model, const LossConfig& loss, const torch::Tensor& images,
                                const torch::Tensor& tokens, int micro_batches, const std::string& precision, PhaseTimes* times,
                                double loss_scale, const MissingInputs& missing, const TaskTensors& task) {
  const auto image_chunks = images.chunk(micro_batches);
  const auto token_chunks = tokens.chunk(micro_batches);
  std::vector<torch::Tensor> cached_images, cached_texts;
  // What each micro-batch's first pass drew (patch dropout): its second pass draws the same, so
  // that its live embeddings are the cached ones.
  std::vector<GeneratorState> draws;
  {
    PhaseTimer timer(forward_slot(times));
    torch::NoGradGuard no_grad;
    AutocastScope autocast(precision, images.device());
    for (size_t k = 0; k < image_chunks.size(); ++k) {
      draws.push_back(GeneratorState::capture(images.device()));
      auto out = model.forward(image_chunks[k], token_chunks[k], missing.chunk(micro_batches, k));
      cached_images.push_back(out.image_embeds);
      cached_texts.push_back(out.text_embeds);
    }
  }
  const LossConfig objective = per_micro_batch(loss, static_cast<int>(image_chunks.size()));
  std::vector<LossResult> parts;
  for (size_t k = 0; k < image_chunks.size(); ++k) {
    LossResult result;
    {
      PhaseTimer timer(forward_slot(times));
      AutocastScope autocast(precision, images.device());
      ReplayedGenerators replay(draws[k], images.device());
      ModelOutput out = model.forward(image_chunks[k], token_chunks[k], missing.chunk(micro_batches, k));
      out.image_embeds = splice(cached_images, out.image_embeds, k);
      out.text_embeds = splice(cached_texts, out.text_embeds, k);
      out.task = task.chunk(micro_batches, k);
      const auto scale = out.logit_scale;
      out.logit_scale = scale.detach() + (scale - scale.detach()) / static_cast<double>(micro_batches);
      result = compute_loss(objective, out, model);
    }
    if (!result.total.is_cuda() && !std::isfinite(result.total.item<double>())) return result;
    {
      PhaseTimer timer(backward_slot(times));
      backward(result.total, loss_scale);
    }
    parts.push_back(std::move(result));
  }
  return combine_micro_batches(loss, parts);
}

}  // namespace mmtrain
