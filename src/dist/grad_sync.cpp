#include "mmtrain/dist/grad_sync.h"

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace mmtrain::dist {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Gloo in LibTorch 1.13 cannot sum bfloat16; such gradients travel as float.
torch::ScalarType wire_type(torch::ScalarType type) { return type == torch::kBFloat16 ? torch::kFloat : type; }

}  // namespace

struct GradientSync::State {
  struct Slot {
    size_t parameter;
    int64_t offset, numel;
  };
  struct Bucket {
    torch::Tensor buffer;  // [sum of numel], wire dtype
    std::vector<Slot> slots;
    size_t pending = 0;  // overlapped mode: gradients still to arrive in this backward
    PendingCollective work;
  };

  ProcessGroup& group;
  // Overlapped mode sends from gradient hooks, in an order relative to the caller's own
  // collectives during backward (all_gather_with_grad's) that can differ between ranks whose
  // graphs differ; Gloo pairs collectives by sequence, so the buckets get a group of their own.
  std::unique_ptr<ProcessGroup> own_group;
  ProcessGroup* comm;
  GradSyncOptions options;
  std::vector<torch::Tensor> parameters;
  std::vector<Bucket> buckets;
  std::vector<std::pair<size_t, size_t>> where;  // parameter -> (bucket, slot)
  std::vector<unsigned> hooks;
  GradSyncStats totals;

  // Overlapped mode, guarded by mutex (the engine may call hooks from its worker threads).
  std::mutex mutex;
  bool armed = false;
  std::vector<bool> arrived;  // parameter's hook fired in the armed backward
  size_t next_launch = 0;     // buckets launch in index order on every rank: Gloo pairs them by sequence
  double launch_seconds = 0.0;

  State(ProcessGroup& group_in, std::vector<torch::Tensor> parameters_in, const GradSyncOptions& options_in)
      : group(group_in), comm(&group_in), options(options_in) {
    for (auto& parameter : parameters_in) {
      TORCH_CHECK(parameter.defined(), "GradientSync: undefined parameter");
      if (parameter.requires_grad()) parameters.push_back(parameter);
    }
    lay_out_buckets();
    arrived.assign(parameters.size(), false);
  }

  // DDP's order: parameters in reverse, since backward produces the last layers' gradients first;
  // one dtype per bucket.
  void lay_out_buckets() {
    TORCH_CHECK(options.bucket_megabytes > 0, "GradientSync: bucket_megabytes must be > 0, got ",
                options.bucket_megabytes);
    const auto cap = static_cast<int64_t>(options.bucket_megabytes * 1024 * 1024);
    std::map<torch::ScalarType, size_t> open;  // wire dtype -> bucket being filled
    std::vector<int64_t> bucket_numel;
    where.resize(parameters.size());
    for (size_t i = parameters.size(); i-- > 0;) {
      const auto type = wire_type(parameters[i].scalar_type());
      const int64_t numel = parameters[i].numel();
      const int64_t bytes = numel * static_cast<int64_t>(c10::elementSize(type));
      auto found = open.find(type);
      if (found == open.end() ||
          (bucket_numel[found->second] > 0 &&
           (bucket_numel[found->second] * static_cast<int64_t>(c10::elementSize(type)) + bytes > cap))) {
        buckets.emplace_back();
        bucket_numel.push_back(0);
        open[type] = buckets.size() - 1;
        found = open.find(type);
      }
      const size_t b = found->second;
      where[i] = {b, buckets[b].slots.size()};
      buckets[b].slots.push_back({i, bucket_numel[b], numel});
      bucket_numel[b] += numel;
    }
    for (size_t b = 0; b < buckets.size(); ++b) {
      const auto type = wire_type(parameters[buckets[b].slots.front().parameter].scalar_type());
      buckets[b].buffer = torch::empty({bucket_numel[b]}, torch::TensorOptions().dtype(type));
    }
  }

  // One all-gather of (count, elements, shape hash) per rank, so a rank built with another model
  // fails here with a message instead of corrupting or hanging the first average().
  void check_same_parameters_on_every_rank() {
    if (group.world_size() == 1) return;
    int64_t elements = 0;
    uint64_t hash = 1469598103934665603ull;  // FNV-1a over dtypes and sizes
    auto mix = [&](uint64_t value) { hash = (hash ^ value) * 1099511628211ull; };
    for (const auto& parameter : parameters) {
      elements += parameter.numel();
      mix(static_cast<uint64_t>(parameter.scalar_type()));
      for (auto size : parameter.sizes()) mix(static_cast<uint64_t>(size));
    }
    auto mine = torch::tensor({static_cast<int64_t>(parameters.size()), elements, static_cast<int64_t>(hash)},
                              torch::kLong);
    auto all = group.allgather(mine.view({1, 3}));  // [W,3]
    for (int rank = 0; rank < group.world_size(); ++rank) {
      if (all[rank].equal(mine)) continue;
      throw DistError("GradientSync: rank " + std::to_string(rank) + " has " +
                      std::to_string(all[rank][0].item<int64_t>()) + " trainable parameters with " +
                      std::to_string(all[rank][1].item<int64_t>()) + " elements, rank " +
                      std::to_string(group.rank()) + " has " + std::to_string(parameters.size()) + " with " +
                      std::to_string(elements) +
                      (all[rank][0].item<int64_t>() == static_cast<int64_t>(parameters.size()) &&
                               all[rank][1].item<int64_t>() == elements
                           ? " (same counts, different shapes or dtypes)"
                           : "") +
                      ": every rank must build the same model");
    }
  }

  torch::Tensor slot_view(const Bucket& bucket, const Slot& slot) const {
    return bucket.buffer.narrow(0, slot.offset, slot.numel).view(parameters[slot.parameter].sizes());
  }

  // The local gradient, or zeros where this rank has none (see the header for why).
  void pack(const Bucket& bucket, const Slot& slot) const {
    auto view = slot_view(bucket, slot);
    const auto& grad = parameters[slot.parameter].grad();
    if (grad.defined()) {
      TORCH_CHECK(!grad.is_sparse(), "GradientSync: sparse gradients are not supported");
      view.copy_(grad);
    } else {
      view.zero_();
    }
  }

  void launch(Bucket& bucket) {
    const auto start = Clock::now();
    bucket.work = comm->allreduce_sum_async_(bucket.buffer);
    launch_seconds += seconds_since(start);
  }

  void on_gradient(size_t parameter, const torch::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed) return;
    TORCH_CHECK(!arrived[parameter], "GradientSync: the gradient of parameter ", parameter,
                " arrived twice after one prepare_for_backward(); call it before each backward to average");
    arrived[parameter] = true;
    auto& bucket = buckets[where[parameter].first];
    // The hook runs before the gradient is accumulated into .grad: the value .grad will hold is
    // the earlier micro-steps' sum plus this one.
    auto view = slot_view(bucket, bucket.slots[where[parameter].second]);
    view.copy_(grad);
    const auto& accumulated = parameters[parameter].grad();
    if (accumulated.defined()) view.add_(accumulated);
    --bucket.pending;
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) launch(buckets[next_launch++]);
  }

  GradSyncStats average() {
    const auto start = Clock::now();
    std::unique_lock<std::mutex> lock(mutex);
    GradSyncStats stats;
    launch_seconds = 0.0;
    // Whether any rank has a gradient for each parameter: it decides whether .grad stays undefined.
    auto has_grad = torch::zeros({static_cast<int64_t>(parameters.size())}, torch::kFloat);
    auto has_grad_data = has_grad.accessor<float, 1>();
    for (size_t i = 0; i < parameters.size(); ++i) {
      has_grad_data[i] = (armed && arrived[i]) || parameters[i].grad().defined() ? 1.0f : 0.0f;
    }
    stats.buckets_started_in_backward = static_cast<int64_t>(next_launch);
    // Buckets the hooks did not launch: all of them without overlap, and in overlapped mode those
    // holding a parameter this backward did not reach.
    for (size_t b = next_launch; b < buckets.size(); ++b) {
      for (const auto& slot : buckets[b].slots) {
        if (!(armed && arrived[slot.parameter])) pack(buckets[b], slot);
      }
      launch(buckets[b]);
    }
    auto flags = comm->allreduce_sum_async_(has_grad);
    const auto wait_start = Clock::now();
    for (auto& bucket : buckets) bucket.work.wait();
    flags.wait();
    stats.allreduce_seconds = seconds_since(wait_start) + launch_seconds;

    const double scale = 1.0 / group.world_size();
    for (auto& bucket : buckets) {
      bucket.buffer.mul_(scale);
      stats.bytes += bucket.buffer.numel() * static_cast<int64_t>(bucket.buffer.element_size());
      for (const auto& slot : bucket.slots) {
        if (has_grad_data[slot.parameter] == 0.0f) continue;
        auto averaged = slot_view(bucket, slot);
        auto& parameter = parameters[slot.parameter];
        if (parameter.grad().defined()) {
          parameter.mutable_grad().copy_(averaged);
        } else {
          parameter.mutable_grad() = averaged.to(parameter.scalar_type(), /*non_blocking=*/false, /*copy=*/true);
        }
      }
    }
    stats.bytes += has_grad.numel() * static_cast<int64_t>(has_grad.element_size());
    stats.buckets = static_cast<int64_t>(buckets.size());
    disarm();
    stats.total_seconds = seconds_since(start);
    totals.allreduce_seconds += stats.allreduce_seconds;
    totals.total_seconds += stats.total_seconds;
    totals.buckets += stats.buckets;
    totals.buckets_started_in_backward += stats.buckets_started_in_backward;
    totals.bytes += stats.bytes;
    return stats;
  }

  void arm() {
    std::lock_guard<std::mutex> lock(mutex);
    disarm();
    armed = true;
  }

  void disarm() {
    armed = false;
    next_launch = 0;
    arrived.assign(parameters.size(), false);
    for (auto& bucket : buckets) bucket.pending = bucket.slots.size();
  }
};

GradientSync::GradientSync(ProcessGroup& group, std::vector<torch::Tensor> parameters, const GradSyncOptions& options)
    : state_(std::make_unique<State>(group, std::move(parameters), options)) {
  state_->check_same_parameters_on_every_rank();
  state_->disarm();
  if (options.overlap_with_backward && group.world_size() > 1) {
    auto* state = state_.get();
    state->own_group = group.new_group();
    state->comm = state->own_group.get();
    for (size_t i = 0; i < state->parameters.size(); ++i) {
      state->hooks.push_back(
          state->parameters[i].register_hook([state, i](const torch::Tensor& grad) { state->on_gradient(i, grad); }));
    }
  }
}

GradientSync::~GradientSync() {
  for (size_t i = 0; i < state_->hooks.size(); ++i) state_->parameters[i].remove_hook(state_->hooks[i]);
}

void GradientSync::prepare_for_backward() {
  if (!state_->hooks.empty()) state_->arm();
}

GradSyncStats GradientSync::average() {
  if (state_->group.world_size() == 1 || state_->parameters.empty()) return {};
  return state_->average();
}

int64_t GradientSync::bucket_count() const { return static_cast<int64_t>(state_->buckets.size()); }

const GradSyncStats& GradientSync::totals() const { return state_->totals; }

GradSyncStats average_gradients(ProcessGroup& group, const std::vector<torch::Tensor>& parameters,
                                const GradSyncOptions& options) {
  GradSyncOptions synchronous = options;
  synchronous.overlap_with_backward = false;
  return GradientSync(group, parameters, synchronous).average();
}

}  // namespace mmtrain::dist
