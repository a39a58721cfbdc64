#include "mmtrain/models/task_tensors.h"

namespace mmtrain {

torch::Tensor chunk_rows(const torch::Tensor& t, int64_t chunks, size_t index) {
  return t.defined() ? t.chunk(chunks)[index] : t;
}

TaskTensors TaskTensors::chunk(int64_t chunks, size_t index) const {
  return {chunk_rows(answers, chunks, index), chunk_rows(state, chunks, index), chunk_rows(actions, chunks, index),
          chunk_rows(target, chunks, index)};
}

TaskTensors TaskTensors::to(const torch::Device& device) const {
  const auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
  return {move(answers), move(state), move(actions), move(target)};
}

void TaskTensors::copy_row(int64_t from, int64_t to) {
  for (auto* t : {&answers, &state, &actions, &target}) {
    if (t->defined()) (*t)[to].copy_((*t)[from]);
  }
}

}  // namespace mmtrain
