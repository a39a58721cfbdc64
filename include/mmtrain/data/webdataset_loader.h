// Training batches from WebDataset shards: each worker thread streams its own shards (webdataset.h)
// and makes every W-th batch, so an epoch repeats exactly for a given worker count, and resuming at
// batch k fast-forwards each worker's stream by the samples its earlier batches used.
#pragma once

#include <memory>
#include <vector>

#include "mmtrain/data/loader.h"
#include "mmtrain/data/webdataset.h"

namespace mmtrain {

class WebDatasetLoader : public BatchSource, private OrderedBatchQueue {
 public:
  // stream_options.worker/workers are set per worker from options.workers (at least one stream).
  WebDatasetLoader(WebDatasetOptions stream_options, std::shared_ptr<const Tokenizer> tokenizer,
                   LoaderOptions options, int64_t samples_per_epoch);
  ~WebDatasetLoader() override;

  int64_t batches_per_epoch() const override;
  void start_epoch(int64_t epoch, int64_t first_batch = 0) override;
  std::optional<Batch> next() override;

 private:
  std::optional<Batch> make_batch(int64_t index) override;
  // Decodes one sample into row `row`; false when it is bad (recorded) and must be replaced.
  bool fill_row(Batch& batch, int64_t row, const WdsSample& sample, uint64_t seed) const;

  // One per worker: batch b comes from stream b % W, and a stream makes its batches in order
  // (batch b waits for b - W), whichever thread of the queue picks them up.
  struct StreamSlot {
    explicit StreamSlot(WebDatasetOptions options) : stream(std::move(options)) {}
    WebDatasetStream stream;
    std::mutex mutex;
    std::condition_variable turn;
    int64_t next_batch = 0;
  };
  StreamSlot& wait_for_turn(int64_t index);
  void finish_turn(StreamSlot& slot);

  std::vector<std::unique_ptr<StreamSlot>> streams_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  LoaderOptions options_;
  std::shared_ptr<BufferPool> pool_;
  int64_t samples_per_epoch_ = 0;
  int64_t epoch_ = 0;
};

// The training source for data.train: a Loader over csv/jsonl/coco, a WebDatasetLoader over shards;
// rank `rank` of `world_size` gets its part of every global batch. With a task (a vqa head's
// vocabulary, an action head's space) batches carry the rows' task tensors; streams are refused then.
std::unique_ptr<BatchSource> make_training_source(const Config& config,
                                                  std::shared_ptr<const PairDataset> dataset,
                                                  std::shared_ptr<const Tokenizer> tokenizer,
                                                  std::shared_ptr<BadSampleLog> bad_samples, int rank = 0,
                                                  int world_size = 1,
                                                  TaskData task = {});

}  // namespace mmtrain
