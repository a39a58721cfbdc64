// CUDA against the CPU: every op, tower x fusion with the losses, bf16 on CUDA, checkpoints moving
// between devices. Without a CUDA device (CI, Debian's CPU-only LibTorch) every test skips, saying
// why; scripts/gpu_check.sh runs them on the GPU machine.
// Tolerances: fp32 on both devices with TF32 off (LibTorch's default for cuBLAS), so the only
// differences are summation orders: 1e-4 relative on outputs and gradients of these small models.
#include <tuple>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/io/checkpoint_file.h"
#include "mmtrain/losses/loss.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/models/transformer.h"
#include "mmtrain/ops/activation_checkpoint.h"
#include "mmtrain/ops/attention.h"
#include "mmtrain/ops/gelu.h"
#include "mmtrain/ops/layer_norm.h"
#include "mmtrain/ops/precision.h"
#include "mmtrain/ops/residual.h"
#include "mmtrain/runtime/libtorch_compat.h"
#include "mmtrain/train/checkpoint.h"
#include "mmtrain/train/optimizer.h"
#include "support/small_model.h"
#include "support/cuda.h"
#include "support/relative_error.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

constexpr double kFp32Tolerance = 1e-4;

const torch::Device kCuda(torch::kCUDA, 0);

TEST(CudaOps, AttentionMatchesTheCpu) {
  MMTRAIN_SKIP_WITHOUT_CUDA();
  torch::manual_seed(0);
  const auto qkv = torch::randn({2, 7, 3 * 16});
  const auto q = torch::randn({2, 5, 16}), kv = torch::randn({2, 7, 2 * 16});
  const auto mask = torch::zeros({7, 7}).masked_fill(torch::ones({7, 7}).triu(1).to(torch::kBool), -1e9);
  EXPECT_LT(test::relative_error(self_attention(qkv.to(kCuda), mask.to(kCuda), 4).cpu(), self_attention(qkv, mask, 4)),
            kFp32Tolerance);
  EXPECT_LT(test::relative_error(cross_attention(q.to(kCuda), kv.to(kCuda), {}, 4).cpu(), cross_attention(q, kv, {}, 4)),
            kFp32Tolerance);
}

TEST(CudaOps, GeluLayerNormAndResidualMatchTheCpu) {
  MMTRAIN_SKIP_WITHOUT_CUDA();
  torch::manual_seed(0);
  const auto x = torch::randn({4, 9, 32}), branch = torch::randn({4, 9, 32});
  torch::nn::LayerNorm norm(torch::nn::LayerNormOptions({32}));
  torch::nn::LayerNorm norm_cuda(torch::nn::LayerNormOptions({32}));
  norm_cuda->to(kCuda);
  EXPECT_LT(test::relative_error(gelu_erf(x.to(kCuda)).cpu(), gelu_erf(x)), kFp32Tolerance);
  EXPECT_LT(test::relative_error(layer_norm_for_linear(norm_cuda, x.to(kCuda)).cpu(), layer_norm_for_linear(norm, x)),
            kFp32Tolerance);
  EXPECT_LT(test::relative_error(add_residual(x.to(kCuda), branch.to(kCuda)).cpu(), add_residual(x, branch)),
            kFp32Tolerance);
}

using test::Combination;

struct Step {
  torch::Tensor loss;
  std::map<std::string, torch::Tensor> grads;  // on the CPU
};

// One forward and backward of a freshly seeded model on `device`: clip + siglip, + itm when fused.
Step one_step(const Combination& combination, torch::Device device, const std::string& precision = "fp32") {
  torch::manual_seed(0);
  auto model = build_model(test::small_model_config(combination), TextVocab{20, 3});
  LossConfig loss;
  loss.terms = {{"clip", 1.0}, {"siglip", 0.5}};
  if (model->fusion().has_match()) loss.terms.push_back({"itm", 1.0});
  attach_loss_parameters(*model, loss);
  model->to(device);
  const auto images = torch::randn({4, 3, 64, 64});
  const auto tokens = torch::tensor({{2, 5, 3, 0, 0, 0}, {2, 6, 7, 3, 0, 0}, {2, 8, 3, 0, 0, 0}, {2, 9, 10, 11, 3, 0}},
                                    torch::kLong);
  Step step;
  {
    AutocastScope autocast(precision, device);
    auto out = model->forward(images.to(device), tokens.to(device));
    step.loss = compute_loss(loss, out, *model).total;
  }
  step.loss.backward();
  step.loss = step.loss.detach().cpu();
  for (const auto& item : model->named_parameters()) step.grads[item.key()] = item.value().grad().cpu();
  return step;
}

class CudaCombinations : public ::testing::TestWithParam<Combination> {};

TEST_P(CudaCombinations, LossAndEveryGradientMatchTheCpu) {
  MMTRAIN_SKIP_WITHOUT_CUDA();
  const Step cpu = one_step(GetParam(), torch::kCPU);
  const Step cuda = one_step(GetParam(), kCuda);
  EXPECT_LT(test::relative_error(cuda.loss, cpu.loss), kFp32Tolerance);
  for (const auto& [name, grad] : cpu.grads) {
    EXPECT_LT(test::relative_error(cuda.grads.at(name), grad), 1e-3) << name;  // tiny gradients: 1e-3
  }
}

INSTANTIATE_TEST_SUITE_P(AllTowersAndFusions, CudaCombinations,
                         ::testing::Combine(::testing::Values("vit", "resnet", "convnet"),
                                            ::testing::Values("transformer", "bow"),
                                            ::testing::Values("late", "early", "cross_attention")),
                         [](const ::testing::TestParamInfo<Combination>& info) {
                           return test::combination_name(info.param);
                         });

// bf16 autocast on CUDA: a finite loss near the fp32 one (bf16 keeps 8 bits of mantissa).
// Activation checkpointing on the device: the recomputation replays the device's generator (a
// dropout mask drawn on CUDA) and bf16 autocast, so gradients equal the plain run's.
TEST(CudaCheckpointing, DeviceDropoutAndBf16AreReplayedSoGradientsEqualThePlainRuns) {
  MMTRAIN_SKIP_WITHOUT_CUDA();
  torch::manual_seed(5);
  auto w = torch::randn({16, 16}, torch::TensorOptions(kCuda).requires_grad(true));
  const auto fn = [w](const torch::Tensor& in) { return torch::dropout(torch::matmul(in, w), 0.5, true); };
  const auto x = torch::randn({4, 16}, kCuda);
  torch::cuda::manual_seed(9);
  fn(x).pow(2).sum().backward();
  const auto plain = w.grad().clone();
  w.mutable_grad() = torch::Tensor();
  torch::cuda::manual_seed(9);
  recompute_in_backward(fn, x, {w}).pow(2).sum().backward();
  EXPECT_LT((w.grad() - plain).abs().max().item<double>(), 1e-6);

  Transformer stack(TransformerOptions(32).layers(2).heads(4));
  stack->to(kCuda);
  const auto tokens = torch::randn({2, 7, 32}, kCuda);
  auto gradients = [&](bool checkpointed) {
    stack->set_grad_checkpointing(checkpointed);
    for (auto& p : stack->parameters()) p.mutable_grad() = torch::Tensor();
    torch::Tensor y;
    {
      AutocastScope autocast("bf16", kCuda);
      y = stack->forward(tokens);
    }
    y.to(torch::kFloat).pow(2).sum().backward();
    return stack->parameters()[0].grad().clone();
  };
  const auto reference = gradients(false);
  EXPECT_LT((gradients(true) - reference).abs().max().item<double>(), 1e-6 * std::max(1.0, reference.abs().max().item<double>()));
}

TEST(CudaPrecision, Bf16StepGivesAFiniteLossNearFp32) {
  MMTRAIN_SKIP_WITHOUT_CUDA();
  const Combination vit{"vit", "transformer", "cross_attention"};
  const Step fp32 = one_step(vit, kCuda);
  const Step bf16 = one_step(vit, kCuda, "bf16");
  ASSERT_TRUE(std::isfinite(bf16.loss.item<double>()));
  EXPECT_LT(test::relative_error(bf16.loss, fp32.loss), 5e-2);
  for (const auto& [name, grad] : bf16.grads) EXPECT_TRUE(torch::isfinite(grad).all().item<bool>()) << name;
}

// Trained on CUDA, read on the CPU (an evaluation host without a GPU); the optimizer state comes
// back onto the GPU for a resume there.
TEST(CudaCheckpoint, WrittenOnCudaLoadsOnTheCpuAndResumesOnCuda) {
  MMTRAIN_SKIP_WITHOUT_CUDA();
  test::TempDir dir;
  const std::string path = (dir.path() / "cuda.pt").string();
  torch::manual_seed(1);
  torch::nn::Linear net(4, 3);
  net->to(kCuda);
  auto optimizer = build_optimizer(*net, OptimConfig{});
  net->forward(torch::randn({8, 4}, kCuda)).pow(2).sum().backward();
  optimizer->step();
  save_checkpoint(path, *net, *optimizer, CheckpointMeta{});

  const Checkpoint checkpoint = Checkpoint::load(path);
  torch::nn::Linear on_cpu(4, 3);
  checkpoint.restore_model(*on_cpu);
  EXPECT_TRUE(torch::equal(on_cpu->weight, net->weight.cpu()));

  torch::nn::Linear resumed(4, 3);
  resumed->to(kCuda);
  auto resumed_optimizer = build_optimizer(*resumed, OptimConfig{});
  checkpoint.restore_model(*resumed);
  restore_optimizer(checkpoint, *resumed, *resumed_optimizer);
  const auto& state = static_cast<const torch::optim::AdamWParamState&>(
      *resumed_optimizer->state().at(compat::optimizer_state_key(resumed->weight)));
  EXPECT_TRUE(state.exp_avg().is_cuda());
  EXPECT_EQ(state.step(), 1);
}

}  // namespace
}  // namespace mmtrain
