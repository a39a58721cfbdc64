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

#include "mmtrain/data/action_space.h"
#include "mmtrain/data/answer_vocab.h"
#include "mmtrain/data/bad_samples.h"
#include "mmtrain/data/buffer_pool.h"
#include "mmtrain/data/dataset.h"
#include "mmtrain/data/transforms.h"
#include "mmtrain/models/task_tensors.h"
#include "mmtrain/text/tokenizer.h"

namespace mmtrain {

struct Batch {
  int64_t index = 0;     // batch number inside the epoch
  torch::Tensor images;  // [B,3,S,S] float32
  torch::Tensor tokens;  // [B,L] int64 (empty [B,0] without a tokenizer)
  torch::Tensor labels;  // [B] int64, -1 where unlabelled
  torch::Tensor ids;     // [B] int64 sample indices into the data set
  TaskTensors task;       // a task head's inputs and targets (answers, state, actions); undefined without one
};

// What a task head needs the loader to add to every batch (Batch::task); empty for contrastive
// training.
struct TaskData {
  // Question answering: each row's answers become soft scores over this vocabulary (task.answers).
  std::shared_ptr<const AnswerVocab> answers;
  // Actions (data type episodes): each row's state and its next `action_chunk` actions of the same
  // episode, scaled by this space (task.state, task.actions).
  std::shared_ptr<const ActionSpace> actions;
  int action_chunk = 1;
};

struct LoaderOptions {
  int64_t batch_size = 256;  // global: a rank's batch is batch_size / world_size of it
  int rank = 0, world_size = 1;  // data parallelism: rank r takes its slice of every batch
  // Where skipped samples are counted. Null: a bad image fails the batch (evaluation, embedding).
  std::shared_ptr<BadSampleLog> bad_samples;
  int workers = 2;  // 0: batches are made by the caller's thread
  bool shuffle = true;
  bool drop_last = true;
  uint64_t seed = 0;
  int context_length = 77;
  int prefetch = 4;  // batches in flight beyond the one being consumed
  TransformOptions transform;
  double word_dropout = 0.0;  // data.augment.word_dropout (training only; text/word_dropout.h)
  TaskData task;
};

// What the trainer draws batches from: a map-style data set (Loader) or a stream of shards
// (WebDatasetLoader, webdataset_loader.h).
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // Batches in one epoch; 0 when a stream does not know (no data.train.num_samples).
  virtual int64_t batches_per_epoch() const = 0;
  // Starts (or restarts) `epoch` at batch `first_batch`.
  virtual void start_epoch(int64_t epoch, int64_t first_batch = 0) = 0;
  // The next batch of the epoch, or nullopt at its end. Rethrows a worker's error.
  virtual std::optional<Batch> next() = 0;
};

// Batches made by worker threads, handed out in order through a bounded window.
class OrderedBatchQueue {
 public:
  virtual ~OrderedBatchQueue();

 protected:
  // Starts `workers` threads making batches first_batch, first_batch+1, ... below end.
  void start_workers(int workers, int64_t first_batch, int64_t end, int prefetch);
  void stop_workers();
  std::optional<Batch> next_in_order();
  // Makes batch `index`; nullopt marks the end of the epoch there (a stream ran dry).
  virtual std::optional<Batch> make_batch(int64_t index) = 0;

 private:
  void worker_loop();

  std::mutex mutex_;
  std::condition_variable changed_;
  int64_t next_to_make_ = 0;
  int64_t next_to_return_ = 0;
  int64_t end_ = 0;
  int prefetch_ = 4;
  int workers_count_ = 0;
  bool stopping_ = false;
  std::map<int64_t, Batch> ready_;
  std::exception_ptr error_;
  std::vector<std::thread> workers_;
};

class Loader : public BatchSource, private OrderedBatchQueue {
 public:
  // tokenizer may be null (images only).
  Loader(std::shared_ptr<const PairDataset> dataset, std::shared_ptr<const Tokenizer> tokenizer,
         LoaderOptions options);
  ~Loader() override;
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t batches_per_epoch() const override;
  void start_epoch(int64_t epoch, int64_t first_batch = 0) override;
  std::optional<Batch> next() override;

 private:
  std::optional<Batch> make_batch(int64_t index) override;
  // Decodes sample `id` into row `row`; false when it is bad (recorded) and must be replaced.
  bool fill_row(Batch& batch, int64_t row, int64_t id) const;
  void fill_action_row(Batch& batch, int64_t row, int64_t id) const;

  std::shared_ptr<const PairDataset> dataset_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  LoaderOptions options_;
  std::shared_ptr<BufferPool> pool_;
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;
  int64_t state_dims_ = 0;  // every episode step's (read_episodes checks they agree)
};

// The training loader's settings from a config: batch, workers, seed, context length, and the
// train transform at the model's image size.
LoaderOptions training_loader_options(const Config& config);

// Empty batch tensors for `count` rows: images [count,3,S,S] (from `pool` when given), tokens
// [count,L], labels, ids.
Batch allocate_batch(int64_t index, int64_t count, int image_size, int context_length,
                     BufferPool* pool = nullptr);
// Row `row` of a batch from a decoded image and a caption: transform (seeded), tokenise, label.
void fill_batch_row(Batch& batch, int64_t row, const cv::Mat& rgb, const std::string& caption,
                    int64_t label, int64_t id, uint64_t transform_seed, const Tokenizer* tokenizer,
                    const LoaderOptions& options);
// A bad sample's row filled with a copy of a good one, so a batch keeps its size.
void copy_batch_row(Batch& batch, int64_t from, int64_t to);

// Every caption of every sample (training a tokenizer on them).
std::vector<std::string> all_captions(const PairDataset& dataset);

// Data order of an epoch: a permutation of [0, n) fixed by (seed, epoch).
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch);

}  // namespace mmtrain
