// A group of training processes (one per rank) joined over PyTorch's c10d Gloo backend on CPU:
// torchrun's environment, rendezvous through a TCP store, and the few collectives training needs.
// c10d and Gloo stay behind the pimpl so that including this header costs no more than a tensor.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include <torch/types.h>

namespace mmtrain::dist {

// A collective or the rendezvous failed at run time (a peer exited or hung, the master is not
// reachable, the ranks disagree on the world size). Exit code 1, like DataError.
struct DistError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where this process sits in the job, as torchrun describes it.
struct DistEnv {
  int rank = 0, world_size = 1;
  int local_rank = 0, local_world_size = 1;
  std::string master_addr;
  int master_port = 0;
  // GLOO_SOCKET_IFNAME: the network interface Gloo binds to; empty = derived from master_addr.
  std::string socket_interface;

  bool is_distributed() const { return world_size > 1; }
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT and
// GLOO_SOCKET_IFNAME. With none of them set, returns a single process (rank 0 of 1). Throws
// ConfigError naming the variable and its value for anything that is not a coherent job:
// non-numeric or negative numbers, RANK >= WORLD_SIZE, or WORLD_SIZE > 1 without MASTER_ADDR
// and a MASTER_PORT in 1..65535.
DistEnv dist_env_from_environment();

struct ProcessGroupOptions {
  // How long rendezvous may take: rank 0 waits this long for every other rank to reach its
  // store, the others keep retrying to connect to it for as long.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(60)};
  // How long one collective may wait for its peers before it fails. A peer that exits closes its
  // sockets and fails the collective at once; this bounds the case of a peer that hangs.
  std::chrono::milliseconds operation_timeout{std::chrono::minutes(5)};
  // Gloo's worker threads; collectives run on them, so 1-2 leave the cores to compute.
  int threads = 2;
};

// An in-flight asynchronous collective. wait() rethrows its failure as DistError; a handle
// that is dropped unwaited lets the collective finish in the background and loses its failure.
class PendingCollective {
 public:
  PendingCollective();
  ~PendingCollective();
  PendingCollective(PendingCollective&&) noexcept;
  PendingCollective& operator=(PendingCollective&&) noexcept;

  bool is_pending() const;
  void wait();

  struct State;  // defined where the c10d headers are
  explicit PendingCollective(std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> state_;
};

// Every rank must call the same collectives in the same order with tensors of the same shape and
// dtype; Gloo matches them by their sequence. Tensors on another device (CUDA) go through host
// copies, except for allreduce_sum_async_, which takes CPU tensors only. With world_size 1 no
// socket is opened and every collective returns its input.
//
// Neither copyable nor movable: an autograd graph built by all_gather_with_grad keeps the
// address of the group until its backward has run.
class ProcessGroup {
 public:
  // Rank 0 serves the TCP store on master_addr:master_port; every rank then connects Gloo.
  // Throws DistError naming the address, the port and the timeout when the rendezvous fails.
  explicit ProcessGroup(const DistEnv& env, const ProcessGroupOptions& options = {});
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }

  // Sums tensor across ranks, in place. Non-contiguous or bfloat16 tensors go through a
  // contiguous float copy (Gloo in LibTorch 1.13 has no bfloat16 sum).
  void allreduce_sum_(torch::Tensor& tensor);
  // The same started asynchronously; tensor must be contiguous and stay alive (and untouched)
  // until wait() returns.
  PendingCollective allreduce_sum_async_(torch::Tensor& tensor);

  // local [n,...] -> [world_size*n,...]: every rank's tensor in rank order. All ranks pass the
  // same shape. The result does not require grad; see all_gather_with_grad for that.
  torch::Tensor allgather(const torch::Tensor& local);

  // Copies root's tensor into tensor on every rank, in place.
  void broadcast_(torch::Tensor& tensor, int root);

  void barrier();

  // Another group of the same ranks with its own Gloo connections and sequence of collectives,
  // for collectives issued from another thread or from autograd hooks, whose order relative to
  // this group's cannot be the same on every rank. A collective: every rank calls it, in the same
  // order relative to other new_group() calls.
  std::unique_ptr<ProcessGroup> new_group();

 private:
  struct Impl;
  ProcessGroup(int rank, int world_size, std::unique_ptr<Impl> impl);
  int rank_ = 0, world_size_ = 1;
  std::unique_ptr<Impl> impl_;  // null when world_size is 1
};

}  // namespace mmtrain::dist
