#include "mmtrain/ops/residual.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mmtrain {
namespace {

// Against LibTorch's type-promoting add: the same fp32 sum, the same gradients (the branch's
// rounded to bf16).
TEST(AddResidual, Bf16BranchIntoFp32StreamIsLibTorchsPromotingAddExactly) {
  torch::manual_seed(0);
  const auto x = torch::randn({3, 65, 128}) * 10;
  const auto branch = torch::randn({3, 65, 128}).to(torch::kBFloat16);
  const auto g = torch::randn({3, 65, 128});
  auto ours_x = x.clone().requires_grad_(), theirs_x = x.clone().requires_grad_();
  auto ours_b = branch.clone().requires_grad_(), theirs_b = branch.clone().requires_grad_();
  const auto ours = add_residual(ours_x, ours_b), theirs = theirs_x + theirs_b;
  ours.backward(g);
  theirs.backward(g);
  EXPECT_EQ(ours.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(ours, theirs));
  EXPECT_TRUE(torch::equal(ours_x.grad(), theirs_x.grad()));
  EXPECT_EQ(ours_b.grad().scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(ours_b.grad(), theirs_b.grad()));
}

TEST(AddResidual, OtherDtypesAndBroadcastsAreLibTorchsAdd) {
  const auto x = torch::randn({2, 5, 8});
  for (const auto& branch : {torch::randn({2, 5, 8}), torch::randn({8}).to(torch::kBFloat16)}) {
    EXPECT_TRUE(torch::equal(add_residual(x, branch), x + branch));
  }
}

}  // namespace
}  // namespace mmtrain
