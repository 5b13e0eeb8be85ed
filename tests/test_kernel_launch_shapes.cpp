// Every kernel's launch shape (kernels/launch_shape.h) within the hardware's limits and covering
// its work, at odd and large shapes: T = 2,001, B = 1, H not a multiple of 32, and sizes past
// the grid caps. Suite KernelLaunchShape; no device needed.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "kernel_emulation.h"
#include "kernels/launch_shape.h"

namespace s2s::test {
namespace {

using cuda::LaunchShape;

void expect_within_limits(const LaunchShape& s, const std::string& what) {
  EXPECT_GE(s.grid_x, 1u) << what;
  EXPECT_GE(s.grid_y, 1u) << what;
  EXPECT_LE(s.grid_x, cuda::kMaxGridX) << what;
  EXPECT_LE(s.grid_y, cuda::kMaxGridY) << what;
  EXPECT_GE(s.threads_per_block(), 1u) << what;
  EXPECT_LE(s.threads_per_block(), cuda::kMaxThreadsPerBlock) << what;
  EXPECT_EQ(s.threads_per_block() % 32, 0u) << what << ": whole warps";
}

// (T, B, H) of the recurrent stack: the T = 2,001 with B = 1, H = 1 and H = 37 (not a
// multiple of 32), a large batch and hidden size.
struct StackShape {
  int steps, batch, hidden;
};
const StackShape kStackShapes[] = {{1, 1, 1},     {2001, 1, 37},  {2001, 1, 1},
                                   {2001, 2048, 513}, {100, 64, 257}, {17, 3, 33}};

TEST(KernelLaunchShape, PointwiseStepsStayWithinLimitsAndVisitEveryUnitOnce) {
  for (const StackShape& s : kStackShapes) {
    const std::size_t units = static_cast<std::size_t>(s.batch) * s.hidden;
    const LaunchShape shape = cuda::grid_stride_shape(units);
    const std::string what = "B " + std::to_string(s.batch) + " H " + std::to_string(s.hidden);
    expect_within_limits(shape, what);
    EXPECT_LE(shape.blocks(), cuda::kMaxBlocks) << what;
    std::vector<int> visits(units, 0);
    EXPECT_EQ(emulate_grid_stride(shape, units, [&](int idx) { ++visits[idx]; }), units) << what;
    for (std::size_t u = 0; u < units; ++u) ASSERT_EQ(visits[u], 1) << what << " unit " << u;
  }
}

// Past the cap the grid stops growing and the threads loop: every element is still visited once.
TEST(KernelLaunchShape, GridStrideBeyondTheBlockCapVisitsEveryElementOnce) {
  const std::size_t n = cuda::kMaxBlocks * cuda::kThreadsPerBlock + 77;
  const LaunchShape shape = cuda::grid_stride_shape(n);
  expect_within_limits(shape, "n " + std::to_string(n));
  EXPECT_EQ(shape.grid_x, cuda::kMaxBlocks);
  std::vector<unsigned char> visits(n, 0);
  EXPECT_EQ(emulate_grid_stride(shape, n, [&](int idx) { ++visits[idx]; }), n);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(visits[i], 1) << i;
}

// The review's finding: one block per sorted position launched ~4 million blocks at T = 2,001
// (T * B positions). The grid is now bounded whatever n, and walks the positions grid-stride.
TEST(KernelLaunchShape, TokenSegmentSumGridIsBoundedAtLongSequences) {
  for (const StackShape& s : kStackShapes) {
    const int n = s.steps * s.batch;
    for (const int width : {1, 4 * s.hidden, 3 * s.hidden, 50000}) {
      const LaunchShape shape = cuda::token_segment_sum_shape(n, width);
      const std::string what = "n " + std::to_string(n) + " width " + std::to_string(width);
      expect_within_limits(shape, what);
      EXPECT_LE(shape.grid_x, cuda::kSegmentBlocks) << what;
      EXPECT_LE(shape.grid_x, static_cast<unsigned>(n)) << what << ": no block without work";
      // The y tiles cover every column (the kernel also strides past the y limit).
      EXPECT_GE(static_cast<std::size_t>(shape.grid_y) * cuda::kTileColumns,
                std::min<std::size_t>(width, cuda::kMaxGridY * cuda::kTileColumns))
          << what;
    }
  }
  const LaunchShape worst = cuda::token_segment_sum_shape(2001 * 2048, 4 * 513);
  EXPECT_LE(worst.blocks(), std::size_t{2048} * 65) << "bounded, not ~4 million";
}

TEST(KernelLaunchShape, ColumnSumCoversEveryColumnWithBoundedChunks) {
  for (const StackShape& s : kStackShapes) {
    const int rows = s.steps * s.batch;
    for (const int width : {1, 31, 33, 4 * s.hidden}) {
      const LaunchShape shape = cuda::column_sum_partial_shape(rows, width);
      const std::string what = "rows " + std::to_string(rows) + " width " + std::to_string(width);
      expect_within_limits(shape, what);
      EXPECT_GE(static_cast<std::size_t>(shape.grid_x) * cuda::kTileColumns,
                static_cast<std::size_t>(width))
          << what;
      EXPECT_LE(shape.grid_y, static_cast<unsigned>(cuda::kColumnSumMaxChunks)) << what;
      // The chunks (of ceil(rows / chunks) rows each) cover every row.
      const int chunks = static_cast<int>(shape.grid_y);
      const int per_chunk = (rows + chunks - 1) / chunks;
      EXPECT_GE(static_cast<long long>(per_chunk) * chunks, rows) << what;
    }
  }
}

TEST(KernelLaunchShape, OneHotGatherTilesStayWithinLimits) {
  for (const StackShape& s : kStackShapes) {
    const std::size_t rows = static_cast<std::size_t>(s.steps) * s.batch;
    for (const int gate_width : {s.hidden, 3 * s.hidden, 4 * s.hidden}) {
      const LaunchShape shape = cuda::one_hot_gather_shape(rows, gate_width);
      const std::string what =
          "rows " + std::to_string(rows) + " gate width " + std::to_string(gate_width);
      expect_within_limits(shape, what);
      EXPECT_EQ(shape.block_x, static_cast<unsigned>(cuda::kGatherTile)) << what;
      EXPECT_LE(shape.blocks(), cuda::kMaxBlocks * cuda::kMaxGridY) << what;
    }
  }
  // Rows past the y limit's tiles: the kernel strides; every (row, g) is still visited once.
  const std::size_t rows = cuda::kMaxGridY * cuda::kGatherTile + 45;
  const int gate_width = 3;
  const LaunchShape shape = cuda::one_hot_gather_shape(rows, gate_width);
  EXPECT_EQ(shape.grid_y, cuda::kMaxGridY);
  std::vector<unsigned char> visits(rows * gate_width, 0);
  emulate_gather_tiles(shape, rows, gate_width,
                       [&](std::size_t row, int g) { ++visits[row * gate_width + g]; });
  for (std::size_t i = 0; i < visits.size(); ++i) ASSERT_EQ(visits[i], 1) << i;
}

}  // namespace
}  // namespace s2s::test
