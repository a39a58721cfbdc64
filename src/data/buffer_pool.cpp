#include "mmtrain/data/buffer_pool.h"

#include <cstdlib>
#include <numeric>

namespace mmtrain {

namespace {
constexpr size_t kAlignment = 64;  // what LibTorch's CPU allocator gives
}

BufferPool::~BufferPool() {
  for (const Buffer& buffer : free_) std::free(buffer.data);
}

torch::Tensor BufferPool::empty(at::IntArrayRef sizes) {
  const auto count = std::accumulate(sizes.begin(), sizes.end(), int64_t{1}, std::multiplies<int64_t>());
  const size_t bytes = static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(float);
  void* data = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->bytes != bytes) continue;
      data = it->data;
      free_.erase(it);
      break;
    }
  }
  if (data == nullptr) {
    data = std::aligned_alloc(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
    TORCH_CHECK(data != nullptr, "out of memory allocating a batch of ", bytes, " bytes");
  }
  auto self = shared_from_this();
  return torch::from_blob(
      data, sizes, [self, bytes](void* buffer) { self->give_back(buffer, bytes); },
      torch::TensorOptions().dtype(torch::kFloat));
}

void BufferPool::give_back(void* buffer, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_.size() >= max_free_) {
    std::free(buffer);
    return;
  }
  free_.push_back({buffer, bytes});
}

}  // namespace mmtrain
