// The tensors a task head reads or trains on besides images and captions (answers, proprioception,
// actions, the named object's place): light enough for the loader's header.
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace mmtrain {

// Micro-batch `index` of `chunks` along rows; an undefined tensor stays undefined.
torch::Tensor chunk_rows(const torch::Tensor& t, int64_t chunks, size_t index);

// What a task head reads or trains on besides the images and captions, row-aligned with the batch:
// the loader fills them from the data, the caller sets them beside the model's outputs. Each is
// undefined when the data has none.
struct TaskTensors {
  torch::Tensor answers;  // [B,K] float32 soft answer scores over an AnswerVocab (vqa)
  torch::Tensor state;    // [B,P] float32 proprioception, e.g. the gripper's (action)
  torch::Tensor actions;  // [B,T,A] float32 the next T actions, scaled to [-1,1] by an ActionSpace (action)
  // [B,2] float32 where the object the text names is (x, y in [0,1] over the image; NaN in a row
  // whose data gives none), for a head's pointing loss (action_point, vqa_point)
  torch::Tensor target;
  TaskTensors chunk(int64_t chunks, size_t index) const;  // accumulation's micro-batch `index`
  TaskTensors to(const torch::Device& device) const;
  void copy_row(int64_t from, int64_t to);  // a bad sample's row replaced by a good one's
};

}  // namespace mmtrain
