// CPU reference of the layout ops: column concatenation and its backward (a bidirectional
// layer's two directions, attention's [context ; h]), per-sequence reversal within each length
// (the reverse direction's view of a padded batch) and row gathers (beam search's reordering).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "cpu/ops_cpu.h"

namespace s2s::cpu {

template <typename T>
void concat_columns_cpu(const T* a, const T* b, int rows, int a_width, int b_width, T* out) {
  const std::size_t width = static_cast<std::size_t>(a_width) + b_width;
  for (int r = 0; r < rows; ++r) {
    T* dst = out + r * width;
    std::copy_n(a + static_cast<std::size_t>(r) * a_width, a_width, dst);
    std::copy_n(b + static_cast<std::size_t>(r) * b_width, b_width, dst + a_width);
  }
}

namespace {
template <typename T>
void take_block(const T* src, int n, T* dst, GradMode mode) {
  if (mode == GradMode::accumulate)
    for (int i = 0; i < n; ++i) dst[i] += src[i];
  else
    std::copy_n(src, n, dst);
}
}  // namespace

template <typename T>
void split_columns_cpu(const T* dout, int rows, int a_width, int b_width, T* da, T* db,
                       GradMode mode) {
  const std::size_t width = static_cast<std::size_t>(a_width) + b_width;
  for (int r = 0; r < rows; ++r) {
    const T* src = dout + r * width;
    if (da) take_block(src, a_width, da + static_cast<std::size_t>(r) * a_width, mode);
    if (db) take_block(src + a_width, b_width, db + static_cast<std::size_t>(r) * b_width, mode);
  }
}

template <typename T>
void reverse_sequences_cpu(const T* x, const std::int32_t* lengths, int seq_len, int batch,
                           int width, T* out) {
  for (int t = 0; t < seq_len; ++t)
    for (int b = 0; b < batch; ++b) {
      T* dst = out + (static_cast<std::size_t>(t) * batch + b) * width;
      if (t < lengths[b]) {
        const int from = lengths[b] - 1 - t;
        std::copy_n(x + (static_cast<std::size_t>(from) * batch + b) * width, width, dst);
      } else {
        std::fill_n(dst, width, T(0));
      }
    }
}

template <typename T>
void gather_rows_cpu(const T* x, const std::int32_t* index, int groups, int rows_in,
                     int rows_out, int width, T* out) {
  for (int g = 0; g < groups; ++g)
    for (int r = 0; r < rows_out; ++r)
      std::copy_n(x + (static_cast<std::size_t>(g) * rows_in + index[r]) * width, width,
                  out + (static_cast<std::size_t>(g) * rows_out + r) * width);
}

#define S2S_INSTANTIATE(T)                                                                   \
  template void concat_columns_cpu<T>(const T*, const T*, int, int, int, T*);                \
  template void split_columns_cpu<T>(const T*, int, int, int, T*, T*, GradMode);             \
  template void reverse_sequences_cpu<T>(const T*, const std::int32_t*, int, int, int, T*); \
  template void gather_rows_cpu<T>(const T*, const std::int32_t*, int, int, int, int, T*);
S2S_INSTANTIATE(float)
S2S_INSTANTIATE(double)
#undef S2S_INSTANTIATE

}  // namespace s2s::cpu
