#include "mmtrain/ops/fused_adamw.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "mmtrain/runtime/libtorch_compat.h"
#include "support/adamw_agreement.h"
#include "support/cuda.h"
#include "support/relative_error.h"

namespace mmtrain {
namespace {

// Parameters above and below the parallel grain (2^15 elements), in a decayed and an exempt group.
struct Params {
  std::vector<torch::Tensor> decayed, exempt;

  explicit Params(int seed) {
    torch::manual_seed(seed);
    decayed = {torch::randn({300, 257}), torch::randn({7, 5})};
    exempt = {torch::randn({129}), torch::randn({1})};
    for (auto* group : {&decayed, &exempt}) {
      for (auto& p : *group) p.requires_grad_();
    }
  }
  std::vector<torch::optim::OptimizerParamGroup> groups() const {
    auto options = [](double weight_decay) {
      return std::make_unique<torch::optim::AdamWOptions>(
          torch::optim::AdamWOptions(3e-3).betas({0.9, 0.98}).eps(1e-6).weight_decay(weight_decay));
    };
    std::vector<torch::optim::OptimizerParamGroup> result;
    result.emplace_back(decayed, options(0.2));
    result.emplace_back(exempt, options(0.0));
    return result;
  }
  std::vector<torch::Tensor> all() const {
    auto result = decayed;
    result.insert(result.end(), exempt.begin(), exempt.end());
    return result;
  }
  void set_gradients(int step, double scale = 1.0) {
    torch::manual_seed(100 + step);
    for (auto& p : all()) p.mutable_grad() = torch::randn_like(p) * scale;
  }
};

void expect_same_parameters(const Params& a, const Params& b) {
  const auto x = a.all(), y = b.all();
  for (size_t i = 0; i < x.size(); ++i) test::expect_adamw_parameters_agree(x[i], y[i], "parameter " + std::to_string(i));
}

// A FusedAdamW and LibTorch's AdamW side by side over equal parameters and gradients, stepped by
// fused_step(optimizer, step, params) and reference_step(optimizer, step, params).
template <typename FusedStep, typename ReferenceStep>
void expect_same_parameters_after(int seed, int steps, FusedStep fused_step, ReferenceStep reference_step) {
  Params fused_params(seed), reference_params(seed);
  FusedAdamW fused(fused_params.groups(), torch::optim::AdamWOptions());
  torch::optim::AdamW reference(reference_params.groups(), torch::optim::AdamWOptions());
  for (int step = 0; step < steps; ++step) {
    fused_params.set_gradients(step);
    reference_params.set_gradients(step);
    fused_step(fused, step, fused_params);
    reference_step(reference, step, reference_params);
  }
  expect_same_parameters(fused_params, reference_params);
}

void plain_step(torch::optim::Optimizer& optimizer, int, Params&) { optimizer.step(); }

// Bit for bit on LibTorch 1.13; see support/adamw_agreement.h for 2.x.
TEST(FusedAdamW, GivesLibTorchsAdamWOverSeveralStepsAndBothGroups) {
  torch::set_num_threads(2);
  expect_same_parameters_after(1, 4, plain_step, plain_step);
}

TEST(FusedAdamW, ScaledStepEqualsLibTorchsStepOnScaledGradients) {
  expect_same_parameters_after(
      2, 2, [](FusedAdamW& optimizer, int, Params&) { optimizer.step_scaled(0.25); },
      [](torch::optim::AdamW& optimizer, int, Params& params) {
        for (auto& p : params.all()) p.mutable_grad().mul_(0.25);
        optimizer.step();
      });
}

TEST(FusedAdamW, KeepsLibTorchsStateSoEitherStepContinuesTheOther) {
  expect_same_parameters_after(
      3, 3,
      [](FusedAdamW& optimizer, int step, Params&) {
        if (step == 1) {
          optimizer.torch::optim::AdamW::step();  // LibTorch's own step on the fused optimizer's state
        } else {
          optimizer.step();
        }
      },
      plain_step);
}

TEST(FusedAdamW, ClippedStepMatchesClipGradNormThenLibTorchsStep) {
  // The norms are summed in double here and in float by LibTorch, so the factors may differ in
  // their last bits: equal within 1e-6, not bit for bit.
  Params fused_params(7), reference_params(7);
  FusedAdamW fused(fused_params.groups(), torch::optim::AdamWOptions());
  torch::optim::AdamW reference(reference_params.groups(), torch::optim::AdamWOptions());
  for (int step = 0; step < 3; ++step) {
    fused_params.set_gradients(step, 5.0);
    reference_params.set_gradients(step, 5.0);
    const double norm = fused.gradient_norm();
    EXPECT_LT(clip_factor(norm, 1.0), 1.0);
    fused.step_scaled(clip_factor(norm, 1.0));
    const double reference_norm = torch::nn::utils::clip_grad_norm_(reference_params.all(), 1.0);
    EXPECT_NEAR(norm, reference_norm, 1e-5 * reference_norm);
    reference.step();
  }
  const auto x = fused_params.all(), y = reference_params.all();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_TRUE(torch::allclose(x[i], y[i], 1e-6, 1e-7)) << "parameter " << i;
}

TEST(FusedAdamW, ClipFactorIsOneWhenTheNormIsWithinTheLimitOrClippingIsOff) {
  EXPECT_EQ(clip_factor(0.5, 1.0), 1.0);
  EXPECT_EQ(clip_factor(50.0, 0.0), 1.0);
  EXPECT_NEAR(clip_factor(4.0, 1.0), 1.0 / (4.0 + 1e-6), 1e-15);
}

TEST(FusedAdamW, SkipsAParameterWithoutGradient) {
  Params params(4);
  FusedAdamW optimizer(params.groups(), torch::optim::AdamWOptions());
  params.set_gradients(0);
  params.exempt[0].mutable_grad() = torch::Tensor();
  const auto before = params.exempt[0].detach().clone();
  optimizer.step();
  EXPECT_TRUE(torch::equal(params.exempt[0], before));
  EXPECT_FALSE(torch::equal(params.decayed[0], Params(4).decayed[0]));
}

TEST(FusedAdamW, GradientNormIsTheL2NormOverEveryGradient) {
  Params params(5);
  FusedAdamW optimizer(params.groups(), torch::optim::AdamWOptions());
  params.set_gradients(0, 3.0);
  double sum = 0;
  for (const auto& p : params.all()) sum += p.grad().to(torch::kDouble).square().sum().item<double>();
  EXPECT_NEAR(optimizer.gradient_norm(), std::sqrt(sum), 1e-9 * std::sqrt(sum));
}

TEST(FusedAdamW, GradientNormIsNotFiniteWhenOneGradientIsNot) {
  Params params(6);
  FusedAdamW optimizer(params.groups(), torch::optim::AdamWOptions());
  params.set_gradients(0);
  params.decayed[0].mutable_grad()[17][3] = NAN;
  EXPECT_TRUE(std::isnan(optimizer.gradient_norm()));
  params.decayed[0].mutable_grad()[17][3] = INFINITY;
  EXPECT_TRUE(std::isinf(optimizer.gradient_norm()));
}

// What FusedAdamW's CUDA path calls: LibTorch 2.x's fused kernel, with our argument mapping (step
// numbers, the gradient factor inverted into the kernel's divisor). LibTorch 2.x runs the same op
// on the CPU, so the mapping is checked here against LibTorch's AdamW on scaled gradients.
TEST(FusedAdamW, LibTorchsFusedKernelWithOurArgumentsMatchesLibTorchsAdamW) {
  if (!compat::has_fused_adamw()) GTEST_SKIP() << "LibTorch " << compat::libtorch_version() << " has no fused AdamW op";
  Params fused_params(5), reference_params(5);
  torch::optim::AdamW reference(reference_params.groups(), torch::optim::AdamWOptions());
  std::vector<torch::Tensor> exp_avgs, exp_avg_sqs, steps;
  for (const auto& p : fused_params.decayed) {
    exp_avgs.push_back(torch::zeros_like(p));
    exp_avg_sqs.push_back(torch::zeros_like(p));
    steps.push_back(torch::zeros({}));
  }
  for (int step = 0; step < 3; ++step) {
    fused_params.set_gradients(step);
    reference_params.set_gradients(step, 0.5);
    reference.step();
    compat::FusedAdamWArgs args;
    args.params = fused_params.decayed;
    for (const auto& p : fused_params.decayed) args.grads.push_back(p.grad());
    args.exp_avgs = exp_avgs;
    args.exp_avg_sqs = exp_avg_sqs;
    for (auto& s : steps) s.fill_(step + 1);
    args.steps = steps;
    args.lr = 3e-3, args.beta1 = 0.9, args.beta2 = 0.98, args.weight_decay = 0.2, args.eps = 1e-6;
    args.grad_scale = 0.5;
    torch::NoGradGuard no_grad;
    compat::fused_adamw(args);
  }
  for (size_t i = 0; i < fused_params.decayed.size(); ++i) {
    // Different kernels, same arithmetic up to the order of roundings: 1e-6 relative.
    EXPECT_LT(test::relative_error(fused_params.decayed[i], reference_params.decayed[i]), 1e-6) << "parameter " << i;
  }
}

TEST(FusedAdamW, OnCudaMatchesTheCpuStep) {
  MMTRAIN_SKIP_WITHOUT_CUDA();
  Params cpu(6), cuda(6);
  for (auto* group : {&cuda.decayed, &cuda.exempt}) {
    for (auto& p : *group) p = p.detach().to(torch::kCUDA).requires_grad_();
  }
  FusedAdamW on_cpu(cpu.groups(), torch::optim::AdamWOptions());
  FusedAdamW on_cuda(cuda.groups(), torch::optim::AdamWOptions());
  for (int step = 0; step < 3; ++step) {
    cpu.set_gradients(step);
    torch::manual_seed(100 + step);
    for (auto& p : cuda.all()) p.mutable_grad() = torch::randn(p.sizes()).to(torch::kCUDA);
    on_cpu.step_scaled(0.7);
    on_cuda.step_scaled(0.7);
  }
  const auto x = cpu.all(), y = cuda.all();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_LT(test::relative_error(y[i].cpu(), x[i]), 1e-6) << "parameter " << i;
}

}  // namespace
}  // namespace mmtrain
