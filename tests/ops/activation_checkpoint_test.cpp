#include "mmtrain/ops/activation_checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/models/transformer.h"
#include "mmtrain/ops/precision.h"

namespace mmtrain {
namespace {

struct Gradients {
  torch::Tensor input;
  std::vector<torch::Tensor> parameters;
};

// One forward and backward of the stack on x, with a fixed upstream gradient.
Gradients run_stack(Transformer& stack, const torch::Tensor& x_in, const std::string& precision = "fp32") {
  for (auto& p : stack->parameters()) p.mutable_grad() = torch::Tensor();
  auto x = x_in.detach().clone().requires_grad_(true);
  torch::Tensor y;
  {
    AutocastScope autocast(precision, torch::kCPU);
    y = stack->forward(x, causal_mask(x.size(1), x));
  }
  torch::manual_seed(11);
  (y.to(torch::kFloat) * torch::randn(y.sizes())).sum().backward();
  Gradients g{x.grad().clone(), {}};
  for (auto& p : stack->parameters()) g.parameters.push_back(p.grad().clone());
  return g;
}

void expect_equal_gradients(const Gradients& plain, const Gradients& recomputed, double tolerance) {
  EXPECT_LE((plain.input - recomputed.input).abs().max().item<double>(), tolerance);
  ASSERT_EQ(plain.parameters.size(), recomputed.parameters.size());
  for (size_t i = 0; i < plain.parameters.size(); ++i) {
    EXPECT_LE((plain.parameters[i] - recomputed.parameters[i]).abs().max().item<double>(), tolerance) << "parameter " << i;
  }
}

Transformer small_stack() {
  torch::manual_seed(3);
  Transformer stack(TransformerOptions(32).layers(3).heads(4));
  stack->train();
  return stack;
}

TEST(ActivationCheckpoint, TransformerGradientsEqualThePlainRunsWithin1e6) {
  auto stack = small_stack();
  const auto x = torch::randn({2, 7, 32});
  const Gradients plain = run_stack(stack, x);
  stack->set_grad_checkpointing(true);
  const Gradients recomputed = run_stack(stack, x);
  expect_equal_gradients(plain, recomputed, 1e-6);
}

TEST(ActivationCheckpoint, Bf16AutocastIsReplayedSoGradientsEqualThePlainBf16Runs) {
  auto stack = small_stack();
  const auto x = torch::randn({2, 7, 32});
  const Gradients plain = run_stack(stack, x, "bf16");
  stack->set_grad_checkpointing(true);
  const Gradients recomputed = run_stack(stack, x, "bf16");
  expect_equal_gradients(plain, recomputed, 1e-6);
  // Without the replay the recomputation would run in fp32: gradients would differ by bf16's rounding.
  const Gradients fp32 = run_stack(stack, x, "fp32");
  EXPECT_GT((plain.parameters[0] - fp32.parameters[0]).abs().max().item<double>(), 1e-5);
}

TEST(ActivationCheckpoint, DropoutDrawsTheSameMaskInTheRecomputationAndLeavesTheStreamWhereItWas) {
  torch::manual_seed(5);
  auto w = torch::randn({16, 16}, torch::requires_grad());
  const auto fn = [w](const torch::Tensor& in) { return torch::dropout(torch::matmul(in, w), 0.5, true); };
  const auto x = torch::randn({4, 16});

  torch::manual_seed(9);
  fn(x).pow(2).sum().backward();
  const auto plain = w.grad().clone();
  w.mutable_grad() = torch::Tensor();

  torch::manual_seed(9);
  auto y = recompute_in_backward(fn, x, {w});
  const auto after_forward = torch::rand({1}).item<double>();  // the stream moves on as in a plain run
  torch::manual_seed(9);
  fn(x);
  EXPECT_EQ(torch::rand({1}).item<double>(), after_forward);
  const auto before_backward = at::globalContext().defaultGenerator(torch::kCPU).get_state();
  y.pow(2).sum().backward();
  EXPECT_TRUE(torch::equal(at::globalContext().defaultGenerator(torch::kCPU).get_state(), before_backward));
  EXPECT_LE((w.grad() - plain).abs().max().item<double>(), 1e-6);
}

TEST(ActivationCheckpoint, ParametersGetGradientsWhenTheInputNeedsNone) {
  // A locked tower's frozen embeddings feed unlocked blocks: the input needs no gradient, the
  // blocks' parameters do.
  auto w = torch::randn({8, 8}, torch::requires_grad());
  const auto x = torch::randn({3, 8});
  auto y = recompute_in_backward([w](const torch::Tensor& in) { return torch::matmul(in, w).tanh(); }, x, {w});
  ASSERT_TRUE(y.requires_grad());
  y.sum().backward();
  const auto expected = torch::matmul(x.t(), 1 - torch::matmul(x, w).tanh().pow(2)).detach();
  EXPECT_TRUE(torch::allclose(w.grad(), expected, 1e-5, 1e-6));
}

TEST(ActivationCheckpoint, EvaluationAndNoGradForwardsDoNotRecompute) {
  auto stack = small_stack();
  stack->set_grad_checkpointing(true);
  const auto x = torch::randn({1, 5, 32}, torch::requires_grad());
  stack->eval();
  const auto y = stack->forward(x);
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.grad_fn()->name().find("RecomputeFunction"), std::string::npos) << y.grad_fn()->name();
  stack->train();
  EXPECT_NE(stack->forward(x).grad_fn()->name().find("RecomputeFunction"), std::string::npos);
}

}  // namespace
}  // namespace mmtrain
