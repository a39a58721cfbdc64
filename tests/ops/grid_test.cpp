#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/ops/grid.h"

namespace mmtrain {
namespace {

// Token i of a flattened [C,H,W] map sits at (column, row) = grid_cells(side)[i]: a map whose
// value is 10 * row + column reads back its own cell through the same flatten the towers use.
TEST(GridCells, FollowTheFlattenedMapsTokenOrder) {
  const int64_t side = 3;
  const auto rows = torch::arange(side, torch::kFloat).view({side, 1}).expand({side, side});
  const auto columns = torch::arange(side, torch::kFloat).view({1, side}).expand({side, side});
  const auto map = (10 * rows + columns).view({1, 1, side, side});   // [B,C,H,W]
  const auto tokens = map.flatten(2).transpose(1, 2).reshape({-1});  // [H*W]
  const auto cells = grid_cells(side);
  ASSERT_EQ(cells.sizes(), (std::vector<int64_t>{9, 2}));
  EXPECT_TRUE(torch::equal(tokens, 10 * cells.select(1, 1) + cells.select(1, 0)));
}

TEST(GridCells, RefusesAnEmptyGrid) { EXPECT_THROW(grid_cells(0), c10::Error); }

}  // namespace
}  // namespace mmtrain
