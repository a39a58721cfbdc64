// A vision tower, a text tower and a fusion module: the model that training, evaluation and
// embedding all drive. Task heads (captioning, VQA, actions) attach to the same Encoded outputs.
#pragma once

#include <memory>

#include "mmtrain/models/fusion.h"
#include "mmtrain/models/task_tensors.h"
#include "mmtrain/models/tower.h"

namespace mmtrain {

struct ModelOutput {
  Encoded image;
  Encoded text;
  torch::Tensor image_embeds;  // [B,E] L2-normalised
  torch::Tensor text_embeds;   // [B,E] L2-normalised
  torch::Tensor logit_scale;   // []
  torch::Tensor token_ids;     // [B,L] int64, what the text tower read (a decoder's targets)
  torch::Tensor fused;         // [B,W] the fusion's joint representation; only for a head that reads it
  // The batch's task tensors (Batch::task): set by the caller beside the model's outputs for the
  // heads and terms that read them.
  TaskTensors task;
};

// The rows of a batch whose image or caption counts as missing: [B] bool, true = missing;
// undefined = none missing.
struct MissingInputs {
  torch::Tensor images;
  torch::Tensor texts;
  MissingInputs chunk(int64_t chunks, size_t index) const;  // accumulation's micro-batch `index`
};

// A task head (heads/task_head.h): reads the model's outputs for one batch.
class TaskHeadImpl : public torch::nn::Module {
 public:
  // The model's outputs for a batch -> the head's prediction (its shape is the task's).
  virtual torch::Tensor forward(const ModelOutput& output) = 0;
  // The head reads the towers' token outputs, not only their pooled summaries.
  virtual bool reads_tokens() const = 0;
  // The head reads the fusion's joint representation (ModelOutput::fused).
  virtual bool reads_fused() const { return false; }
};

class MultimodalModelImpl : public torch::nn::Module {
 public:
  MultimodalModelImpl(std::shared_ptr<VisionTowerImpl> vision, std::shared_ptr<TextTowerImpl> text,
                      std::shared_ptr<FusionImpl> fusion);
  // Registers `head` as the submodule "head" (trained, checkpointed and loaded with the rest).
  void attach_head(std::shared_ptr<TaskHeadImpl> head);
  // images [B,3,H,W], tokens [B,L] -> embeddings of both. A missing row's tower output is the
  // learned placeholder (add_placeholders), or what the tower makes of the input without one.
  ModelOutput forward(const torch::Tensor& images, const torch::Tensor& tokens, const MissingInputs& missing = {});
  // Learned stand-ins for a missing image's and caption's tower outputs, pooled and every token:
  // train.modality_dropout on a late-fusion model. The parameters placeholders.image [Dv] and
  // placeholders.text [Dt], zero at first.
  void add_placeholders();
  torch::Tensor encode_images(const torch::Tensor& images);  // -> [B,E] L2-normalised
  torch::Tensor encode_texts(const torch::Tensor& tokens);   // -> [B,E] L2-normalised
  // A tower's output: all of Encoded when `all_tokens` or when the fusion or head reads tokens, else
  // the pooled summary alone (forward_pooled: a lighter last block).
  Encoded encode_vision(const torch::Tensor& images, bool all_tokens = false);
  Encoded encode_text(const torch::Tensor& tokens, bool all_tokens = false);

  // Freezes a tower and its side of the fusion (requires_grad false): LiT-style fine-tuning. With
  // `unlocked` > 0 the top that many depth groups stay trainable (open_clip's partial unlocking);
  // a tower without depth groups is refused.
  void lock_vision(int unlocked = 0);
  void lock_text(int unlocked = 0);
  // A side's depth groups, bottom to top: the tower's, then its projection in the fusion; empty
  // when the tower has none.
  std::vector<DepthGroup> vision_depth_groups();
  std::vector<DepthGroup> text_depth_groups();

  VisionTowerImpl& vision() { return *vision_; }
  TextTowerImpl& text() { return *text_; }
  FusionImpl& fusion() { return *fusion_; }
  // Null when the model has no task head.
  TaskHeadImpl* head() { return head_.get(); }

 private:
  std::shared_ptr<VisionTowerImpl> vision_;
  std::shared_ptr<TextTowerImpl> text_;
  std::shared_ptr<FusionImpl> fusion_;
  std::shared_ptr<TaskHeadImpl> head_;
  torch::Tensor image_placeholder_, text_placeholder_;  // [Dv], [Dt]; undefined without placeholders
  bool reads_tokens() const { return fusion_->uses_tokens() || (head_ && head_->reads_tokens()); }
};
TORCH_MODULE(MultimodalModel);

}  // namespace mmtrain
