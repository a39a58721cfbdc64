// Recycled float buffers for batch images. A fresh batch tensor of 40-150 MB comes from mmap and
// page-faults on every 4 KB page while it is filled (about 15% of the pipeline's time at 224 px);
// a buffer handed back when its tensor dies is filled again without faults.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include <torch/types.h>

namespace mmtrain {

class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  static std::shared_ptr<BufferPool> create(size_t max_free) {
    return std::shared_ptr<BufferPool>(new BufferPool(max_free));
  }
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // An uninitialised float32 CPU tensor whose storage returns here when the last tensor using it
  // is gone (the pool lives as long as any of its tensors).
  torch::Tensor empty(at::IntArrayRef sizes);

 private:
  explicit BufferPool(size_t max_free) : max_free_(max_free) {}
  void give_back(void* buffer, size_t bytes);

  struct Buffer {
    void* data;
    size_t bytes;
  };
  size_t max_free_;
  std::mutex mutex_;
  std::vector<Buffer> free_;
};

}  // namespace mmtrain
