// Every op run twice on the same inputs: on the implementation ops/dispatch.h chooses here, and
// under LibTorchOnlyScope (what MMTRAIN_KERNELS=off gives), compared in value and gradient. Each
// test first checks that the two runs really took different paths, so none of them can pass by
// comparing LibTorch with itself; where this CPU lacks a kernel's instructions the test skips.
#include "mmtrain/ops/dispatch.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <limits>
#include <vector>

#include "mmtrain/ops/attention.h"
#include "mmtrain/ops/fused_adamw.h"
#include "mmtrain/ops/gelu.h"
#include "mmtrain/ops/layer_norm.h"
#include "mmtrain/ops/precision.h"
#include "mmtrain/ops/residual.h"
#include "support/adamw_agreement.h"
#include "support/relative_error.h"

namespace mmtrain {
namespace {

using ops::Impl;

// Outputs and the gradients of the inputs that require one, after backward(g) on the first output.
struct Run {
  std::vector<torch::Tensor> values;
};

// op(inputs) with fresh leaf copies of `inputs`; returns [output, grads of the inputs...].
Run run_op(const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& op,
           const std::vector<torch::Tensor>& inputs, const torch::Tensor& g) {
  std::vector<torch::Tensor> leaves;
  for (const auto& x : inputs) leaves.push_back(x.detach().clone().requires_grad_(x.is_floating_point()));
  auto out = op(leaves);
  out.backward(g.to(out.scalar_type()));
  Run run{{out.detach()}};
  for (const auto& leaf : leaves) run.values.push_back(leaf.grad());
  return run;
}

using test::relative_error;

// The op on the kernel path and on LibTorch's, each value within `tolerance` of the other
// (relative to the largest magnitude; 0 asks for the same values).
void expect_paths_agree(const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& op,
                        const std::vector<torch::Tensor>& inputs, const torch::Tensor& g, double tolerance) {
  const Run kernel = run_op(op, inputs, g);
  Run libtorch;
  {
    ops::LibTorchOnlyScope plain;
    libtorch = run_op(op, inputs, g);
  }
  ASSERT_EQ(kernel.values.size(), libtorch.values.size());
  for (size_t i = 0; i < kernel.values.size(); ++i) {
    SCOPED_TRACE(i == 0 ? "output" : "gradient of input " + std::to_string(i - 1));
    ASSERT_EQ(kernel.values[i].defined(), libtorch.values[i].defined());
    if (!kernel.values[i].defined()) continue;
    EXPECT_EQ(kernel.values[i].scalar_type(), libtorch.values[i].scalar_type());
    EXPECT_EQ(kernel.values[i].sizes(), libtorch.values[i].sizes());
    EXPECT_LE(relative_error(kernel.values[i], libtorch.values[i]), tolerance);
  }
}

// The kernel `chosen` must be what dispatch picks, and LibTorch's path under the scope.
#define EXPECT_DISPATCH(chosen, call)                                       \
  do {                                                                      \
    if ((call) != (chosen)) GTEST_SKIP() << "this CPU runs " << ops::impl_name(call) << ", not " \
                                         << ops::impl_name(chosen);        \
    ops::LibTorchOnlyScope plain;                                           \
    EXPECT_EQ(call, Impl::libtorch);                                        \
  } while (0)

torch::Tensor causal_mask(int64_t length) {
  return torch::full({length, length}, -std::numeric_limits<float>::infinity()).triu(1);
}

TEST(OpPaths, SelfAttentionFp32KernelMatchesLibTorch) {
  torch::manual_seed(1);
  const auto qkv = torch::randn({3, 17, 3 * 48});
  EXPECT_DISPATCH(Impl::cpu_fused, ops::attention_impl(qkv, qkv, 16));
  const auto mask = causal_mask(17);
  expect_paths_agree([&](const auto& in) { return self_attention(in[0], mask, 3); }, {qkv},
                     torch::randn({3, 17, 48}), 1e-5);
}

TEST(OpPaths, CrossAttentionFp32KernelMatchesLibTorch) {
  torch::manual_seed(2);
  const auto q = torch::randn({2, 5, 32}), kv = torch::randn({2, 11, 64});
  EXPECT_DISPATCH(Impl::cpu_fused, ops::attention_impl(q, kv, 8));
  const auto padding = torch::zeros({2, 1, 1, 11}).index_put_({1, 0, 0, torch::indexing::Slice(8)}, -1e9);
  expect_paths_agree([&](const auto& in) { return cross_attention(in[0], in[1], padding, 4); }, {q, kv},
                     torch::randn({2, 5, 32}), 1e-5);
}

TEST(OpPaths, SelfAttentionBf16KernelMatchesLibTorchWithinBf16Rounding) {
  torch::manual_seed(3);
  const auto qkv = torch::randn({2, 33, 3 * 64}).to(torch::kBFloat16);
  const Impl chosen = ops::attention_impl(qkv, qkv, 32);
  ASSERT_NE(chosen, Impl::libtorch);
  EXPECT_DISPATCH(chosen, ops::attention_impl(qkv, qkv, 32));
  // LibTorch's bf16 path rounds the scores and probabilities to bf16 between its operators; the
  // kernel keeps them in fp32 and rounds once: a few bf16 steps (2^-8 relative) apart.
  expect_paths_agree([&](const auto& in) { return self_attention(in[0], torch::Tensor(), 2); }, {qkv},
                     torch::randn({2, 33, 64}), 3e-2);
}

TEST(OpPaths, GeluBf16KernelMatchesLibTorch) {
  torch::manual_seed(4);
  const auto x = (torch::randn({4, 65, 96}) * 3).to(torch::kBFloat16);
  EXPECT_DISPATCH(Impl::cpu_avx512_bf16, ops::gelu_impl(x));
  // Both round fp32 arithmetic to bf16 once: within one bf16 step of the largest value.
  expect_paths_agree([](const auto& in) { return gelu_erf(in[0]); }, {x}, torch::randn({4, 65, 96}), 1e-2);
}

TEST(OpPaths, LayerNormForLinearUnderBf16AutocastMatchesLibTorch) {
  torch::manual_seed(5);
  torch::nn::LayerNorm norm(torch::nn::LayerNormOptions({40}));
  {
    torch::NoGradGuard no_grad;
    norm->weight.normal_(1.0, 0.3);
    norm->bias.normal_(0.0, 0.2);
  }
  const auto x = torch::randn({6, 9, 40}) * 2 + 0.5;
  AutocastScope autocast("bf16", torch::kCPU);
  EXPECT_DISPATCH(Impl::cpu_avx512_bf16, ops::layer_norm_for_linear_impl(x, norm->weight, true, 1));
  // The kernel writes bf16 itself; LibTorch's fp32 result is cast by the linear layer that reads it.
  // Both round fp32 arithmetic once; the gradient reaches x in fp32.
  expect_paths_agree([&](const auto& in) { return layer_norm_for_linear(norm, in[0]).to(torch::kBFloat16); }, {x},
                     torch::randn({6, 9, 40}), 1e-2);
}

TEST(OpPaths, ResidualAddOfABf16BranchMatchesLibTorchExactly) {
  torch::manual_seed(6);
  const auto x = torch::randn({5, 7, 33}), branch = torch::randn({5, 7, 33}).to(torch::kBFloat16);
  EXPECT_DISPATCH(Impl::cpu_avx512_bf16, ops::residual_impl(x, branch));
  expect_paths_agree([](const auto& in) { return add_residual(in[0], in[1]); }, {x, branch},
                     torch::randn({5, 7, 33}), 0.0);
}

// AdamW is no tensor function: the same parameters and gradients stepped on each path.
std::vector<torch::Tensor> adamw_after_steps(int steps) {
  torch::manual_seed(7);
  std::vector<torch::Tensor> params = {torch::randn({300, 257}).requires_grad_(), torch::randn({9}).requires_grad_()};
  FusedAdamW optimizer({torch::optim::OptimizerParamGroup(params)},
                       torch::optim::AdamWOptions(3e-3).betas({0.9, 0.98}).eps(1e-6).weight_decay(0.2));
  for (int step = 0; step < steps; ++step) {
    for (auto& p : params) p.mutable_grad() = torch::randn_like(p);
    optimizer.step_scaled(clip_factor(optimizer.gradient_norm(), 50.0));
  }
  return {params[0].detach(), params[1].detach()};
}

// Bit for bit on LibTorch 1.13; see support/adamw_agreement.h for 2.x.
TEST(OpPaths, FusedAdamWStepsGiveLibTorchsParameters) {
  const auto p = torch::randn({4}), g = torch::randn({4});
  EXPECT_DISPATCH(Impl::cpu_fused, ops::adamw_impl(p, g, torch::Tensor(), torch::Tensor(), false));
  const auto kernel = adamw_after_steps(3);
  std::vector<torch::Tensor> libtorch;
  {
    ops::LibTorchOnlyScope plain;
    libtorch = adamw_after_steps(3);
  }
  for (size_t i = 0; i < kernel.size(); ++i) {
    test::expect_adamw_parameters_agree(kernel[i], libtorch[i], "parameter " + std::to_string(i));
  }
}

TEST(OpPaths, AmsgradAndOtherDevicesOrDtypesTakeLibTorchsPath) {
  const auto p = torch::randn({4}), g = torch::randn({4});
  EXPECT_EQ(ops::adamw_impl(p, g, torch::Tensor(), torch::Tensor(), true), Impl::libtorch);
  EXPECT_EQ(ops::adamw_impl(p.to(torch::kDouble), g.to(torch::kDouble), torch::Tensor(), torch::Tensor(), false),
            Impl::libtorch);
  const auto half = torch::randn({2, 4, 24}).to(torch::kHalf);
  EXPECT_EQ(ops::attention_impl(half, half, 8), Impl::libtorch);
  EXPECT_EQ(ops::gelu_impl(torch::randn({8})), Impl::libtorch);  // fp32 GELU is LibTorch's own
  EXPECT_EQ(ops::residual_impl(torch::randn({8}), torch::randn({8})), Impl::libtorch);
  // Outside autocast the LayerNorm's fp32 result is what the linear layer reads.
  EXPECT_EQ(ops::layer_norm_for_linear_impl(torch::randn({2, 8}), torch::ones({8}), true, 1), Impl::libtorch);
}

TEST(OpPaths, ScopesNestAndRestoreTheKernels) {
  const bool before = ops::kernels_enabled();
  {
    ops::LibTorchOnlyScope outer;
    {
      ops::LibTorchOnlyScope inner;
      EXPECT_FALSE(ops::kernels_enabled());
    }
    EXPECT_FALSE(ops::kernels_enabled());
  }
  EXPECT_EQ(ops::kernels_enabled(), before);
}

}  // namespace
}  // namespace mmtrain
