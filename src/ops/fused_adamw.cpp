#include "mmtrain/ops/fused_adamw.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "mmtrain/kernels/adamw_math.h"
#include "mmtrain/ops/dispatch.h"
#include "mmtrain/runtime/libtorch_compat.h"

namespace mmtrain {

namespace {

// Elements per task: a step over a tiny model should not pay for waking the other threads.
constexpr int64_t kGrain = 1 << 15;

// One flat index range over several tensors: tensor t owns [offsets[t], offsets[t + 1]).
struct FlatRange {
  std::vector<int64_t> offsets{0};

  void append(int64_t size) { offsets.push_back(offsets.back() + size); }
  int64_t size() const { return offsets.back(); }

  // f(t, from, to) for each tensor's share of [begin, end), in local element indices.
  template <typename F>
  void for_each(int64_t begin, int64_t end, F&& f) const {
    auto t = static_cast<int64_t>(std::upper_bound(offsets.begin(), offsets.end(), begin) - offsets.begin()) - 1;
    for (; begin < end; ++t) {
      const int64_t stop = std::min(end, offsets[t + 1]);
      if (stop > begin) f(t, begin - offsets[t], stop - offsets[t]);
      begin = stop;
    }
  }
};

// LibTorch's scalars for this step, in its order: double arithmetic, then rounded to float.
adamw_math::StepConstants step_constants(const torch::optim::AdamWOptions& options, int64_t step, double grad_scale) {
  const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
  const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(step));
  adamw_math::StepConstants c;
  c.decays = options.weight_decay() != 0;
  c.decay = static_cast<float>(1 - options.lr() * options.weight_decay());
  c.beta1 = static_cast<float>(beta1);
  c.one_minus_beta1 = static_cast<float>(1 - beta1);
  c.beta2 = static_cast<float>(beta2);
  c.one_minus_beta2 = static_cast<float>(1 - beta2);
  c.sqrt_bias_correction2 = static_cast<float>(std::sqrt(bias_correction2));
  c.eps = static_cast<float>(options.eps());
  c.neg_step_size = static_cast<float>(-(options.lr() / bias_correction1));
  c.grad_scale = static_cast<float>(grad_scale);
  return c;
}

struct Update {
  float *param, *exp_avg, *exp_avg_sq;
  const float* grad;
  adamw_math::StepConstants constants;
};

}  // namespace

FusedAdamW::FusedAdamW(std::vector<torch::optim::OptimizerParamGroup> groups, torch::optim::AdamWOptions defaults)
    : torch::optim::AdamW(std::move(groups), std::move(defaults)) {}

ops::Impl FusedAdamW::common_impl() const {
  std::optional<ops::Impl> common;
  for (const auto& group : param_groups_) {
    const bool amsgrad = static_cast<const torch::optim::AdamWOptions&>(group.options()).amsgrad();
    for (const auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      at::Tensor exp_avg, exp_avg_sq;
      const auto found = state_.find(compat::optimizer_state_key(p));
      if (found != state_.end()) {
        const auto& state = static_cast<const torch::optim::AdamWParamState&>(*found->second);
        exp_avg = state.exp_avg();
        exp_avg_sq = state.exp_avg_sq();
      }
      const ops::Impl impl = ops::adamw_impl(p, p.grad(), exp_avg, exp_avg_sq, amsgrad);
      if (common && *common != impl) return ops::Impl::libtorch;
      common = impl;
    }
  }
  return common.value_or(ops::Impl::libtorch);
}

torch::optim::AdamWParamState& FusedAdamW::state_of(const torch::Tensor& p) {
  auto& slot = state_[compat::optimizer_state_key(p)];
  if (!slot) {
    auto state = std::make_unique<torch::optim::AdamWParamState>();
    state->step(0);
    state->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    state->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    slot = std::move(state);
  }
  return static_cast<torch::optim::AdamWParamState&>(*slot);
}

std::vector<torch::Tensor> FusedAdamW::gradients() const {
  std::vector<torch::Tensor> grads;
  for (const auto& group : param_groups_) {
    for (const auto& p : group.params()) {
      if (p.grad().defined()) grads.push_back(p.grad());
    }
  }
  return grads;
}

double FusedAdamW::gradient_norm() {
  const std::vector<torch::Tensor> grads = gradients();
  if (ops::gradient_norm_impl(grads) != ops::Impl::cpu_fused) {
    if (grads.empty()) return 0.0;
    // One reduction and one read back, not one per gradient: on a GPU each read is a sync.
    std::vector<torch::Tensor> sums;
    for (const auto& g : grads) sums.push_back(g.to(torch::kDouble).square().sum());
    return std::sqrt(torch::stack(sums).sum().item<double>());
  }
  FlatRange range;
  for (const auto& g : grads) range.append(g.numel());
  const double sum = at::parallel_reduce(
      int64_t{0}, range.size(), kGrain, 0.0,
      [&](int64_t begin, int64_t end, double partial) {
        range.for_each(begin, end, [&](int64_t t, int64_t from, int64_t to) {
          partial += adamw_math::sum_of_squares(grads[t].data_ptr<float>() + from, to - from);
        });
        return partial;
      },
      std::plus<double>());
  return std::sqrt(sum);
}

void FusedAdamW::step_scaled(double grad_scale) {
  torch::NoGradGuard no_grad;
  switch (common_impl()) {
    case ops::Impl::cpu_fused: return step_cpu_fused(grad_scale);
    case ops::Impl::cuda_fused: return step_cuda_fused(grad_scale);
    default: break;
  }
  if (grad_scale != 1.0) {
    for (auto& grad : gradients()) grad.mul_(grad_scale);
  }
  torch::optim::AdamW::step();
}

void FusedAdamW::step_cpu_fused(double grad_scale) {
  std::vector<Update> updates;
  FlatRange range;
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& state = state_of(p);
      state.step(state.step() + 1);
      updates.push_back({p.data_ptr<float>(), state.exp_avg().data_ptr<float>(), state.exp_avg_sq().data_ptr<float>(),
                         p.grad().data_ptr<float>(), step_constants(options, state.step(), grad_scale)});
      range.append(p.numel());
    }
  }
  at::parallel_for(0, range.size(), kGrain, [&](int64_t begin, int64_t end) {
    range.for_each(begin, end, [&](int64_t t, int64_t from, int64_t to) {
      const Update& u = updates[t];
      adamw_math::update(u.param + from, u.exp_avg + from, u.exp_avg_sq + from, u.grad + from, to - from,
                         u.constants);
    });
  });
}

// LibTorch 2.x's multi-tensor kernel: a few launches per group instead of ~10 per parameter. It
// reads step counts as device scalars, made here from the integers in the state (the checkpointed
// ones).
void FusedAdamW::step_cuda_fused(double grad_scale) {
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    compat::FusedAdamWArgs args;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& state = state_of(p);
      state.step(state.step() + 1);
      args.params.push_back(p);
      args.grads.push_back(p.grad());
      args.exp_avgs.push_back(state.exp_avg());
      args.exp_avg_sqs.push_back(state.exp_avg_sq());
      args.steps.push_back(torch::full({}, static_cast<double>(state.step()), p.options().dtype(torch::kFloat)));
    }
    if (args.params.empty()) continue;
    args.lr = options.lr();
    args.beta1 = std::get<0>(options.betas());
    args.beta2 = std::get<1>(options.betas());
    args.weight_decay = options.weight_decay();
    args.eps = options.eps();
    args.grad_scale = grad_scale;
    compat::fused_adamw(args);
  }
}

double clip_factor(double norm, double max_norm) {
  if (max_norm <= 0) return 1.0;
  return std::min(max_norm / (norm + 1e-6), 1.0);
}

torch::Tensor FusedAdamW::step(LossClosure closure) {
  if (closure != nullptr) return torch::optim::AdamW::step(closure);
  step_scaled(1.0);
  return {};
}

}  // namespace mmtrain
