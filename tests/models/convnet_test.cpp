#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/models/convnet.h"

namespace mmtrain {
namespace {

// The code's entries written out with std::sin/std::cos, one cell at a time, for a 3x3 grid and
// 8 channels (w_k = 10000^(-k/2): 1 and 0.01).
TEST(SincosPositionCode, MatchesTheFormulaCellByCell) {
  const auto code = sincos_position_code(3, 8);
  ASSERT_EQ(code.sizes(), (std::vector<int64_t>{9, 8}));
  const double omega[2] = {1.0, 0.01};
  for (int row = 0; row < 3; ++row) {
    for (int column = 0; column < 3; ++column) {
      const auto cell = code[row * 3 + column];
      for (int k = 0; k < 2; ++k) {
        EXPECT_NEAR(cell[k].item<double>(), std::sin(column * omega[k]), 1e-6);
        EXPECT_NEAR(cell[2 + k].item<double>(), std::cos(column * omega[k]), 1e-6);
        EXPECT_NEAR(cell[4 + k].item<double>(), std::sin(row * omega[k]), 1e-6);
        EXPECT_NEAR(cell[6 + k].item<double>(), std::cos(row * omega[k]), 1e-6);
      }
    }
  }
}

TEST(SincosPositionCode, RefusesAWidthNotAMultipleOfFour) {
  EXPECT_THROW(sincos_position_code(4, 6), c10::Error);
  EXPECT_THROW(ConvNet(ConvNetOptions(16).width(6).layers(2).position_code(true)), c10::Error);
}

// The same weights with and without the code: the tokens differ by exactly the code of their
// cell (4x4 map from 16 px and 3 stages), pooled not at all.
TEST(ConvNet, PositionCodeAddsTheCodeToTokensAndLeavesPooledAlone) {
  torch::manual_seed(0);
  ConvNet plain(ConvNetOptions(16).width(8).layers(3));
  ConvNet coded(ConvNetOptions(16).width(8).layers(3).position_code(true));
  torch::NoGradGuard no_grad;
  for (const auto& item : plain->named_parameters()) coded->named_parameters()[item.key()].copy_(item.value());
  plain->eval();
  coded->eval();
  const auto images = torch::randn({2, 3, 16, 16});
  const auto a = plain->forward(images);
  const auto b = coded->forward(images);
  ASSERT_EQ(b.tokens.sizes(), (std::vector<int64_t>{2, 16, 8}));
  EXPECT_TRUE(torch::allclose(b.tokens - a.tokens, sincos_position_code(4, 8).expand({2, 16, 8}), 1e-5, 1e-5));
  EXPECT_TRUE(torch::equal(a.pooled, b.pooled));
}

// output_width sets the tokens' and pooled width apart from the first stage's, and every token
// leaves normalised (ln_post: zero mean, unit variance over its channels at initialisation);
// without it the tokens are not normalised and there is no ln_post to load.
TEST(ConvNet, OutputWidthSetsTheTokenWidthAndTokensLeaveNormalised) {
  ConvNet net(ConvNetOptions(16).width(8).layers(3).output_width(32));
  net->eval();
  EXPECT_EQ(net->width(), 32);
  const auto out = net->forward(torch::randn({2, 3, 16, 16}) * 5.0);
  ASSERT_EQ(out.tokens.sizes(), (std::vector<int64_t>{2, 16, 32}));
  ASSERT_EQ(out.pooled.sizes(), (std::vector<int64_t>{2, 32}));
  EXPECT_TRUE(torch::allclose(out.tokens.mean(-1), torch::zeros({2, 16}), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(out.tokens.var(-1, /*unbiased=*/false), torch::ones({2, 16}), 1e-2, 1e-2));
  ConvNet plain(ConvNetOptions(16).width(8).layers(3));
  EXPECT_EQ(plain->width(), 8);
  EXPECT_EQ(plain->named_parameters().find("ln_post.weight"), nullptr);
  EXPECT_NE(net->named_parameters().find("ln_post.weight"), nullptr);
}

}  // namespace
}  // namespace mmtrain
