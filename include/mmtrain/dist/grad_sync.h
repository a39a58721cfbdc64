// Data-parallel gradient averaging: after each rank's backward, every parameter's .grad becomes
// the mean over ranks, sent in flat buckets like DDP, optionally started during backward.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "mmtrain/dist/process_group.h"

namespace mmtrain::dist {

struct GradSyncOptions {
  // Gradients are packed into flat buffers of about this size, one all-reduce each (DDP's
  // bucket_cap_mb). A parameter larger than this gets a bucket of its own.
  double bucket_megabytes = 25.0;
  // Start each bucket's all-reduce from gradient hooks as soon as its last gradient has been
  // computed, while backward continues with earlier layers. Only the backward that follows
  // prepare_for_backward() communicates, so gradient-accumulation micro-steps stay local.
  bool overlap_with_backward = false;
};

struct GradSyncStats {
  // Seconds average() was blocked waiting for all-reduces: the communication not hidden behind
  // compute. Without overlap that is the whole all-reduce time. Divide by the step time for the
  // "all-reduce fraction" metric.
  double allreduce_seconds = 0.0;
  // Seconds inside average(), packing, unpacking and the 1/world_size scaling included.
  double total_seconds = 0.0;
  int64_t buckets = 0;
  int64_t buckets_started_in_backward = 0;  // overlapped mode: launched by hooks, before average()
  int64_t bytes = 0;  // all-reduced by this rank, the flag exchange included
};

// Parameters that do not require grad are ignored. The parameter list (order, shapes, dtypes) must
// be the same on every rank; the constructor is a collective that checks it and throws DistError
// naming the rank that differs.
//
// Semantics of average() for a parameter whose .grad is undefined on some ranks: those ranks count
// it as zeros (DDP's find_unused_parameters), so every rank ends with the same defined .grad and
// the same optimizer update; when it is undefined on every rank it stays undefined everywhere, as
// it would in one process. Every rank runs the same collectives either way, so a rank that skipped
// a parameter cannot deadlock the others.
//
// Holds gradient hooks on the parameters in overlapped mode: neither copyable nor movable, and
// must not outlive the parameters' autograd use (its destructor removes the hooks).
class GradientSync {
 public:
  GradientSync(ProcessGroup& group, std::vector<torch::Tensor> parameters, const GradSyncOptions& options = {});
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // Overlapped mode: arms the hooks for the next backward only. Call it before the backward of
  // the last micro-batch of a step and call average() after that backward. A no-op without overlap.
  void prepare_for_backward();

  // Replaces every parameter's .grad by its mean over the ranks and returns this call's costs.
  GradSyncStats average();

  int64_t bucket_count() const;
  // Sums of every average() so far.
  const GradSyncStats& totals() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One-shot synchronous form of GradientSync::average() (it lays out buckets and checks the
// parameter list across ranks on each call; keep a GradientSync for a training loop).
GradSyncStats average_gradients(ProcessGroup& group, const std::vector<torch::Tensor>& parameters,
                                const GradSyncOptions& options = {});

}  // namespace mmtrain::dist
