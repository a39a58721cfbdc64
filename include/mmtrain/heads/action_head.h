// The action head of a vision-language-action policy: the camera image, the instruction and the
// robot's proprioception in, the next T actions out (an action chunk, as ACT and Octo predict).
//
// Where things are is read off the image by spatial attention: K queries, made from the fusion's
// joint representation of (image, instruction) and the proprioception, attend over the vision
// tower's patch tokens; each gives the expected position of its attention on the patch grid (a
// spatial soft-argmax, as in deep spatial autoencoders for robot control) and the features it
// attended to. An MLP reads the joint representation, the proprioception, the K positions and
// features: Linear(W + P + K*(2 + D), H), LayerNorm, GELU, Linear(H, H), GELU, Linear(H, T*A*max(1,
// bins)). Positions are in [0,1] over the image, x to the right, y downwards, as the simulator's.
// Where the data says which object the instruction names (an episode step's "target"), the
// action_point loss term trains the first query to attend to that object's cell: behaviour cloning
// alone teaches the policy to move and grasp long before it teaches which object to go for. With
// model.head.point words that query is the sum of one per instruction token (Linear(Dt, D) of each
// of the text tower's tokens, padding left out) instead of one made from the joint representation.
//
// Two forms, chosen by model.head.bins:
// - continuous (bins 0): each action dimension scaled to [-1,1] by the ActionSpace, trained with L1
//   (Octo's simplest head) by the action_l1 loss term;
// - discrete (bins N): each dimension's value as one of N equal bins over the data's range, trained
//   with token cross-entropy (OpenVLA's 256 bins) by the action_ce loss term.
// Needs a fused type (early or cross_attention) and a vision tower whose tokens lie on a square grid
// (after a class token, if any): vit, resnet, convnet.
#pragma once

#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "mmtrain/heads/task_head.h"

namespace mmtrain {

class ActionHeadImpl : public TaskHeadImpl {
 public:
  ActionHeadImpl(const HeadConfig& config, const HeadDims& dims);
  // fused [B,W], image.tokens [B,N(+1),D] and task.state [B,P] -> continuous [B,T,A] or discrete
  // logits [B,T,A,bins], float32.
  torch::Tensor forward(const ModelOutput& output) override;
  static constexpr int64_t kKeypoints = 4;  // enough for a target, a destination and a spare
  bool reads_tokens() const override { return true; }
  bool reads_fused() const override { return true; }

  // The predicted actions, scaled to [-1,1] [B,T,A]: the continuous output clipped, or the centre of
  // each dimension's most likely bin.
  torch::Tensor predict(const ModelOutput& output);
  int64_t chunk() const { return chunk_; }
  int64_t action_dims() const { return action_dims_; }
  int64_t bins() const { return bins_; }  // 0: continuous

  // The first query's attention logits over the patch grid [B,N] (row-major cells, x fastest): what
  // the pointing loss (action_point) trains to fall on the object the instruction names.
  torch::Tensor pointing_logits(const ModelOutput& output);

 private:
  struct Attention {
    torch::Tensor scores;   // [B,K,N] each query's logits over the patches
    torch::Tensor patches;  // [B,N,D] float32, a class token left out
    torch::Tensor grid;     // [N,2] the cells' centres, x and y in [0,1]
  };
  // The fused representation and the proprioception side by side [B,W+P].
  torch::Tensor joint(const ModelOutput& output) const;
  // The queries over output.image.tokens, made from `query_input` (the first from the words of
  // output.text with model.head.point words).
  Attention attention(const torch::Tensor& query_input, const ModelOutput& output);
  // [B,K,2 + D]: each query's expected grid position and attended features.
  torch::Tensor attend(const torch::Tensor& query_input, const ModelOutput& output);

  int64_t chunk_, action_dims_, state_dims_, bins_, image_width_;
  bool point_words_;
  torch::nn::Linear query_{nullptr}, key_{nullptr}, fc1_{nullptr}, fc2_{nullptr}, out_{nullptr};
  torch::nn::Linear word_query_{nullptr};  // point words: text width -> image width
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(ActionHead);

// The model's action head; throws ConfigError naming `what` when the model has none.
ActionHeadImpl& action_head_of(MultimodalModelImpl& model, const std::string& what);

void register_action_head();

}  // namespace mmtrain
