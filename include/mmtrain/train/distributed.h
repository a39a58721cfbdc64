// What a training run needs from data parallelism: this process's place in the job, the process
// group (c10d Gloo), the global contrastive batch and gradient averaging. One process is the case
// world_size 1, where every call is free.
#pragma once

#include <memory>

#include "mmtrain/config/config.h"
#include "mmtrain/dist/grad_sync.h"
#include "mmtrain/dist/process_group.h"
#include "mmtrain/losses/loss.h"
#include "mmtrain/models/multimodal_model.h"

namespace mmtrain {

class DataParallel {
 public:
  // Joins the job torchrun's variables describe (RANK, WORLD_SIZE, MASTER_ADDR, ...); without
  // them, a single process. Checks that train.batch_size splits over the ranks.
  explicit DataParallel(const Config& config);
  ~DataParallel();

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool is_main() const { return env_.rank == 0; }
  bool is_distributed() const { return env_.world_size > 1; }

  // Rank 0's parameters on every rank, and gradient averaging set up for them.
  void attach(MultimodalModelImpl& model);
  // Every rank's embeddings, this rank's rows at rank * b (gradient flows back to their owner).
  GlobalEmbeddings gather(const ModelOutput& output);
  // Averages .grad over the ranks; returns the seconds spent waiting for the all-reduces.
  double average_gradients();
  double mean(double value);         // over the ranks
  bool any(bool flag);               // true on every rank when true on one
  void barrier();

 private:
  dist::DistEnv env_;
  std::unique_ptr<dist::ProcessGroup> group_;
  std::unique_ptr<dist::GradientSync> sync_;
};

}  // namespace mmtrain
