// Stable sort of token positions by token (kernels/token_sort.h) with CUB's radix sort, which is
// stable and deterministic, on the caller's scratch (no allocation, no host synchronisation).
#include "kernels/token_sort.h"

#include <cub/device/device_radix_sort.cuh>

#include <string>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

constexpr std::size_t kAlignment = 256;

std::size_t aligned(std::size_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

// Key bits to sort: enough for every value in [0, vocab] (vocab is the padding key).
int key_bits(int vocab) {
  int bits = 1;
  while (bits < 32 && (std::uint64_t{1} << bits) <= static_cast<std::uint64_t>(vocab)) ++bits;
  return bits;
}

// CUB's temporary storage for sorting n pairs on key bits [0, bits): asked with the same
// arguments as the sort itself (a size query only: nothing runs on the device).
std::size_t radix_temp_bytes(int n, int bits) {
  std::size_t bytes = 0;
  S2S_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, bytes, static_cast<const std::uint32_t*>(nullptr),
      static_cast<std::uint32_t*>(nullptr), static_cast<const std::int32_t*>(nullptr),
      static_cast<std::int32_t*>(nullptr), n, 0, bits));
  return bytes;
}

__global__ void token_sort_keys_kernel(const std::int32_t* tokens, const std::int32_t* lengths,
                                       int batch, int n, int vocab, std::uint32_t* keys,
                                       std::int32_t* positions) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const bool real = lengths == nullptr || i / batch < lengths[i % batch];
    keys[i] = static_cast<std::uint32_t>(real ? tokens[i] : vocab);
    positions[i] = i;
  }
}

}  // namespace

std::size_t token_sort_scratch_bytes(int n, int vocab) {
  const std::size_t count = static_cast<std::size_t>(n);
  return 2 * aligned(count * sizeof(std::uint32_t)) + 2 * aligned(count * sizeof(std::int32_t)) +
         aligned(radix_temp_bytes(n, key_bits(vocab)));
}

SortedTokens sort_token_positions_cuda(const std::int32_t* tokens, const std::int32_t* lengths,
                                       int batch, int n, int vocab, void* scratch,
                                       std::size_t scratch_bytes, Stream stream) {
  const std::size_t needed = token_sort_scratch_bytes(n, vocab);
  if (scratch_bytes < needed)
    throw Error("sort_token_positions_cuda: " + std::to_string(scratch_bytes) +
                " bytes of scratch given, " + std::to_string(needed) + " needed (internal error)");
  const std::size_t count = static_cast<std::size_t>(n);
  char* p = static_cast<char*>(scratch);
  auto* keys_in = reinterpret_cast<std::uint32_t*>(p);
  p += aligned(count * sizeof(std::uint32_t));
  auto* keys_out = reinterpret_cast<std::uint32_t*>(p);
  p += aligned(count * sizeof(std::uint32_t));
  auto* positions_in = reinterpret_cast<std::int32_t*>(p);
  p += aligned(count * sizeof(std::int32_t));
  auto* positions_out = reinterpret_cast<std::int32_t*>(p);
  p += aligned(count * sizeof(std::int32_t));
  const int bits = key_bits(vocab);
  std::size_t temp_bytes = radix_temp_bytes(n, bits);

  token_sort_keys_kernel<<<detail::grid_for(count), detail::kThreadsPerBlock, 0, stream>>>(
      tokens, lengths, batch, n, vocab, keys_in, positions_in);
  S2S_CUDA_CHECK_LAUNCH("token_sort_keys_kernel");
  S2S_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(p, temp_bytes, keys_in, keys_out, positions_in,
                                                 positions_out, n, 0, bits, stream));
  S2S_CUDA_CHECK_LAUNCH("cub::DeviceRadixSort::SortPairs");
  return SortedTokens{keys_out, positions_out};
}

}  // namespace s2s::cuda
