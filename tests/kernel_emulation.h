// Runs a kernel's launch on the CPU, thread by thread, the way the GPU would: every block of the
// launch shape, every thread of the block, each thread's grid-stride loop. The Kernel* and
// Executor* tests use it to run the kernels' host-callable bodies (kernels/*_pointwise.h, ...)
// with the launchers' own shapes (kernels/launch_shape.h), without a device.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/launch_shape.h"

namespace s2s::test {

// Calls body(idx) for every idx a 1-D grid-stride kernel launched with `shape` visits for n
// elements: thread (block, lane) starts at block * block_x + lane and strides by
// grid_x * block_x. Returns how many calls were made (each idx should be visited once).
template <typename Body>
std::size_t emulate_grid_stride(const cuda::LaunchShape& shape, std::size_t n, Body&& body) {
  std::size_t calls = 0;
  const std::size_t stride = static_cast<std::size_t>(shape.grid_x) * shape.block_x;
  for (std::size_t block = 0; block < shape.grid_x; ++block)
    for (std::size_t lane = 0; lane < shape.block_x; ++lane)
      for (std::size_t idx = block * shape.block_x + lane; idx < n; idx += stride) {
        body(static_cast<int>(idx));
        ++calls;
      }
  return calls;
}

// The one-hot gather's tile walk (kernels/one_hot_projection.cu): blocks (x = gate tiles,
// y = row tiles), each looping grid-stride over tiles of kGatherTile x kGatherTile; calls
// element(row, g) for every (row, g) of every tile a block visits, as the kernel's write phase
// does (the read phase fills the same (row, g) cells of the shared tile).
template <typename Element>
void emulate_gather_tiles(const cuda::LaunchShape& shape, std::size_t rows, int gate_width,
                          Element&& element) {
  constexpr int kTile = cuda::kGatherTile;
  for (std::size_t by = 0; by < shape.grid_y; ++by)
    for (std::size_t bx = 0; bx < shape.grid_x; ++bx)
      for (std::size_t row0 = by * kTile; row0 < rows;
           row0 += static_cast<std::size_t>(shape.grid_y) * kTile)
        for (std::size_t g0 = bx * kTile; g0 < static_cast<std::size_t>(gate_width);
             g0 += static_cast<std::size_t>(shape.grid_x) * kTile)
          for (int ri = 0; ri < kTile; ++ri)
            for (int gi = 0; gi < kTile; ++gi) {
              const std::size_t row = row0 + ri;
              const std::size_t g = g0 + gi;
              if (row < rows && g < static_cast<std::size_t>(gate_width))
                element(row, static_cast<int>(g));
            }
}

}  // namespace s2s::test
