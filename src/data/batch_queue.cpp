#include "mmtrain/data/loader.h"

namespace mmtrain {

OrderedBatchQueue::~OrderedBatchQueue() = default;  // derived classes stop the workers first

void OrderedBatchQueue::start_workers(int workers, int64_t first_batch, int64_t end, int prefetch) {
  stop_workers();
  std::lock_guard<std::mutex> lock(mutex_);
  next_to_make_ = next_to_return_ = first_batch;
  end_ = end;
  prefetch_ = prefetch;
  workers_count_ = workers;
  stopping_ = false;
  ready_.clear();
  error_ = nullptr;
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void OrderedBatchQueue::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

void OrderedBatchQueue::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] {
      return stopping_ || next_to_make_ >= end_ || next_to_make_ <= next_to_return_ + prefetch_;
    });
    if (stopping_ || next_to_make_ >= end_) return;
    const int64_t index = next_to_make_++;
    lock.unlock();
    std::optional<Batch> batch;
    std::exception_ptr error;
    try {
      batch = make_batch(index);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_) error_ = error;
    if (batch) {
      ready_.emplace(index, std::move(*batch));
    } else if (!error) {
      end_ = std::min(end_, index);  // the epoch ends at the first batch that could not be made
    }
    changed_.notify_all();
  }
}

std::optional<Batch> OrderedBatchQueue::next_in_order() {
  if (workers_count_ == 0) {
    if (next_to_return_ >= end_) return std::nullopt;
    auto batch = make_batch(next_to_return_++);
    if (!batch) end_ = next_to_return_ - 1;
    return batch;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] {
    return error_ || next_to_return_ >= end_ || ready_.count(next_to_return_) > 0;
  });
  if (error_) std::rethrow_exception(error_);
  if (next_to_return_ >= end_) return std::nullopt;
  auto node = ready_.extract(next_to_return_++);
  changed_.notify_all();
  return std::move(node.mapped());
}

}  // namespace mmtrain
