// CPU reference of the embedding op: a row gather forward, a deterministic scatter-add backward.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cpu/ops_cpu.h"

namespace s2s::cpu {

template <typename T>
void embedding_forward_cpu(const T* table, const std::int32_t* tokens, int n, int /*vocab*/,
                           int embedding_size, T* out) {
  const std::size_t width = static_cast<std::size_t>(embedding_size);
  for (int i = 0; i < n; ++i) {
    const T* row = table + static_cast<std::size_t>(tokens[i]) * width;
    T* dst = out + static_cast<std::size_t>(i) * width;
    for (std::size_t e = 0; e < width; ++e) dst[e] = row[e];
  }
}

// Each token's gradient row is first summed over its positions, in position order and in double,
// and only then written (overwrite) or added once (accumulate). So the result does not depend on
// scheduling, and accumulate gives exactly existing + what overwrite would have written.
template <typename T>
void embedding_backward_cpu(const std::int32_t* tokens, const T* dout, int n, int vocab,
                            int embedding_size, T* dtable, GradMode mode) {
  const std::size_t width = static_cast<std::size_t>(embedding_size);
  if (mode == GradMode::overwrite) {
    // Rows of tokens absent from the batch get zero gradient.
    for (std::size_t i = 0; i < static_cast<std::size_t>(vocab) * width; ++i) dtable[i] = T(0);
  }
  // next_same[i]: the next position holding the same token as position i, or -1. Built from the
  // back with last_seen, so walking the chain from a token's first position visits its positions
  // in increasing order.
  std::vector<int> next_same(static_cast<std::size_t>(n), -1);
  std::vector<int> last_seen(static_cast<std::size_t>(vocab), -1);
  for (int i = n - 1; i >= 0; --i) {
    next_same[i] = last_seen[tokens[i]];
    last_seen[tokens[i]] = i;
  }
  // After the loop, last_seen[token] is the token's first position.
  std::vector<double> row_sum(width);
  for (int i = 0; i < n; ++i) {
    const std::int32_t token = tokens[i];
    if (last_seen[token] != i) continue;  // not the token's first position: already summed
    for (std::size_t e = 0; e < width; ++e) row_sum[e] = 0.0;
    for (int j = i; j >= 0; j = next_same[j]) {
      const T* src = dout + static_cast<std::size_t>(j) * width;
      for (std::size_t e = 0; e < width; ++e) row_sum[e] += static_cast<double>(src[e]);
    }
    T* dst = dtable + static_cast<std::size_t>(token) * width;
    for (std::size_t e = 0; e < width; ++e) dst[e] += static_cast<T>(row_sum[e]);
  }
}

template void embedding_forward_cpu<float>(const float*, const std::int32_t*, int, int, int,
                                           float*);
template void embedding_forward_cpu<double>(const double*, const std::int32_t*, int, int, int,
                                            double*);
template void embedding_backward_cpu<float>(const std::int32_t*, const float*, int, int, int,
                                            float*, GradMode);
template void embedding_backward_cpu<double>(const std::int32_t*, const double*, int, int, int,
                                             double*, GradMode);

}  // namespace s2s::cpu
