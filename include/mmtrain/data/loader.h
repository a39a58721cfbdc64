// The threaded loader: workers decode, augment, tokenise and collate whole batches; batches come
// out in order through a bounded window. The order is a pure function of (seed, epoch), and a
// loader can start an epoch at any batch, which is what resuming needs.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <torch/types.h>

#include "mmtrain/data/dataset.h"
#include "mmtrain/data/transforms.h"
#include "mmtrain/text/tokenizer.h"

namespace mmtrain {

struct Batch {
  int64_t index = 0;     // batch number inside the epoch
  torch::Tensor images;  // [B,3,S,S] float32
  torch::Tensor tokens;  // [B,L] int64 (empty [B,0] without a tokenizer)
  torch::Tensor labels;  // [B] int64, -1 where unlabelled
  torch::Tensor ids;     // [B] int64 sample indices into the data set
};

struct LoaderOptions {
  int64_t batch_size = 256;
  int workers = 2;  // 0: batches are made by the caller's thread
  bool shuffle = true;
  bool drop_last = true;
  uint64_t seed = 0;
  int context_length = 77;
  int prefetch = 4;  // batches in flight beyond the one being consumed
  TransformOptions transform;
};

class Loader {
 public:
  // tokenizer may be null (images only).
  Loader(std::shared_ptr<const PairDataset> dataset, std::shared_ptr<const Tokenizer> tokenizer,
         LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t batches_per_epoch() const;
  // Starts (or restarts) `epoch` at batch `first_batch`.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The next batch of the epoch, or nullopt at its end. Rethrows a worker's error.
  std::optional<Batch> next();

 private:
  Batch make_batch(int64_t index) const;
  void worker_loop();
  void stop_workers();

  std::shared_ptr<const PairDataset> dataset_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  LoaderOptions options_;
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;

  std::mutex mutex_;
  std::condition_variable changed_;
  int64_t next_to_make_ = 0;
  int64_t next_to_return_ = 0;
  int64_t end_ = 0;
  bool stopping_ = false;
  std::map<int64_t, Batch> ready_;
  std::exception_ptr error_;
  std::vector<std::thread> workers_;
};

// The training loader's settings from a config: batch, workers, seed, context length, and the
// train transform at the model's image size.
LoaderOptions training_loader_options(const Config& config);

// Every caption of every sample (training a tokenizer on them).
std::vector<std::string> all_captions(const PairDataset& dataset);

// Data order of an epoch: a permutation of [0, n) fixed by (seed, epoch).
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch);

}  // namespace mmtrain
