// Every kernel's grid and block, computed by host-callable functions without CUDA types, so
// that the launchers in kernels/*.cu use them and tests/test_kernel_launch_shapes.cpp checks them
// for bounds on the CPU (T = 2,001, B = 1, H not a multiple of 32, ...).
#pragma once

#include <algorithm>
#include <cstddef>

namespace s2s::cuda {

// A launch: grid (x, y) of blocks of (x, y) threads.
struct LaunchShape {
  unsigned grid_x = 1, grid_y = 1;
  unsigned block_x = 1, block_y = 1;
  std::size_t blocks() const { return static_cast<std::size_t>(grid_x) * grid_y; }
  unsigned threads_per_block() const { return block_x * block_y; }
};

// Hardware limits the shapes stay inside (compute capability 8.0 and 9.0).
constexpr std::size_t kMaxGridX = 2147483647u;
constexpr std::size_t kMaxGridY = 65535;
constexpr unsigned kMaxThreadsPerBlock = 1024;

constexpr int kThreadsPerBlock = 256;
// Grid-stride kernels cover any size with at most this many blocks: enough to fill every SM of
// an H200 (132) many times over, few enough that a launch never schedules millions of idle
// blocks.
constexpr std::size_t kMaxBlocks = 65535;

inline unsigned capped_blocks(std::size_t items, std::size_t per_block, std::size_t cap) {
  const std::size_t blocks = (items + per_block - 1) / per_block;
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min(blocks, cap)));
}

// One thread per element, grid-stride: the pointwise cell kernels, final states, elementwise ops.
inline LaunchShape grid_stride_shape(std::size_t n, int threads = kThreadsPerBlock) {
  LaunchShape s;
  s.block_x = static_cast<unsigned>(threads);
  s.grid_x = capped_blocks(n, static_cast<std::size_t>(threads), kMaxBlocks);
  return s;
}

// Tiles of 32 columns x 8 row threads, shared by the column reductions and the one-hot gather.
constexpr int kTileColumns = 32;
constexpr int kTileRowThreads = 8;

// token_segment_sum: x = sorted positions, visited grid-stride by at most
// kSegmentBlocks blocks (a block sums the run of a token that starts at its position);
// y = 32-column tiles, grid-stride past kMaxGridY.
constexpr std::size_t kSegmentBlocks = 2048;
inline LaunchShape token_segment_sum_shape(int n, int width) {
  LaunchShape s;
  s.block_x = kTileColumns;
  s.block_y = kTileRowThreads;
  s.grid_x = capped_blocks(static_cast<std::size_t>(std::max(n, 1)), 1, kSegmentBlocks);
  s.grid_y = capped_blocks(static_cast<std::size_t>(std::max(width, 1)), kTileColumns,
                           kMaxGridY);
  return s;
}

// column_sum's first pass: x = 32-column tiles (one per tile: the x limit is 2^31 - 1),
// y = row chunks (at most kColumnSumMaxChunks).
constexpr int kColumnSumMinRowsPerChunk = 64;
constexpr int kColumnSumMaxChunks = 1024;
inline int column_sum_chunks(int rows) {
  const int wanted = (std::max(rows, 0) + kColumnSumMinRowsPerChunk - 1) / kColumnSumMinRowsPerChunk;
  return std::max(1, std::min(wanted, kColumnSumMaxChunks));
}
inline LaunchShape column_sum_partial_shape(int rows, int width) {
  LaunchShape s;
  s.block_x = kTileColumns;
  s.block_y = kTileRowThreads;
  s.grid_x = capped_blocks(static_cast<std::size_t>(std::max(width, 1)), kTileColumns,
                           kMaxGridX);
  s.grid_y = static_cast<unsigned>(column_sum_chunks(rows));
  return s;
}

// The one-hot gather: 32 x 32 tiles of (rows, gate units), transposed through shared memory so
// that both the reads of W_ih rows and the writes of gate rows are coalesced. x = gate tiles,
// y = row tiles, both grid-stride past their caps.
constexpr int kGatherTile = 32;
inline LaunchShape one_hot_gather_shape(std::size_t rows, int gate_width) {
  LaunchShape s;
  s.block_x = kGatherTile;
  s.block_y = kTileRowThreads;
  s.grid_x = capped_blocks(static_cast<std::size_t>(std::max(gate_width, 1)), kGatherTile,
                           kMaxBlocks);
  s.grid_y = capped_blocks(std::max<std::size_t>(rows, 1), kGatherTile, kMaxGridY);
  return s;
}

// One warp per row, kWarpRowsPerBlock rows per block: the row softmaxes (masked_softmax,
// log_softmax) and additive attention's scores (a row there is one score, its lanes striding
// the attention width). x = row groups, up to 2^31 - 1 blocks, so rows < 1.7e10.
constexpr int kWarpLanes = 32;
constexpr int kWarpRowsPerBlock = 8;
inline LaunchShape warp_rows_shape(std::size_t rows) {
  LaunchShape s;
  s.block_x = kWarpLanes * kWarpRowsPerBlock;
  s.grid_x = capped_blocks(std::max<std::size_t>(rows, 1), kWarpRowsPerBlock, kMaxGridX);
  return s;
}

// beam_candidates: one block per source (x, grid-stride past the cap), its threads striding the
// source's beams * V candidates. A block selects `count` candidates one after the other (each
// round a block-wide maximum), so the count is capped: kMaxBeamCandidates rounds of
// beams * V / kBeamThreads reads each.
constexpr int kBeamThreads = 256;
constexpr int kMaxBeamCandidates = 1024;
inline LaunchShape beam_candidates_shape(int batch) {
  LaunchShape s;
  s.block_x = kBeamThreads;
  s.grid_x = capped_blocks(static_cast<std::size_t>(std::max(batch, 1)), 1, kMaxBlocks);
  return s;
}

}  // namespace s2s::cuda
