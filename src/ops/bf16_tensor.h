// What the autograd wrappers of the AVX-512 bf16 kernels (gelu.cpp, layer_norm.cpp, residual.cpp)
// share: their tensors' bf16 data as the raw 16 bits the kernels take, and how much work one
// LibTorch task gets. Internal to src/.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace mmtrain {

// Elements per task of at::parallel_for: enough to outweigh a task's start.
constexpr int64_t kElementsPerTask = int64_t{1} << 15;

inline const uint16_t* bf16_data(const at::Tensor& t) { return static_cast<const uint16_t*>(t.data_ptr()); }
inline uint16_t* mutable_bf16_data(const at::Tensor& t) { return static_cast<uint16_t*>(t.data_ptr()); }

}  // namespace mmtrain
