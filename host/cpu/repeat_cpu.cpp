// CPU reference of repeat (Keras' RepeatVector): one [B, H] state copied to every one of T steps,
// and its backward, the sum over steps.
#include <cstddef>
#include <vector>

#include "cpu/ops_cpu.h"

namespace s2s::cpu {

template <typename T>
void repeat_forward_cpu(const T* x, int seq_len, int batch, int width, T* out) {
  const std::size_t step_size = static_cast<std::size_t>(batch) * width;
  for (int t = 0; t < seq_len; ++t) {
    T* dst = out + static_cast<std::size_t>(t) * step_size;
    for (std::size_t i = 0; i < step_size; ++i) dst[i] = x[i];
  }
}

// The sum over steps runs in double and is added to dx once, so accumulate is exactly
// existing + what overwrite would have written.
template <typename T>
void repeat_backward_cpu(const T* dout, int seq_len, int batch, int width, T* dx, GradMode mode) {
  const std::size_t step_size = static_cast<std::size_t>(batch) * width;
  std::vector<double> sum(step_size, 0.0);
  for (int t = 0; t < seq_len; ++t) {
    const T* src = dout + static_cast<std::size_t>(t) * step_size;
    for (std::size_t i = 0; i < step_size; ++i) sum[i] += static_cast<double>(src[i]);
  }
  for (std::size_t i = 0; i < step_size; ++i) {
    const T fresh = static_cast<T>(sum[i]);
    dx[i] = mode == GradMode::accumulate ? dx[i] + fresh : fresh;
  }
}

template void repeat_forward_cpu<float>(const float*, int, int, int, float*);
template void repeat_forward_cpu<double>(const double*, int, int, int, double*);
template void repeat_backward_cpu<float>(const float*, int, int, int, float*, GradMode);
template void repeat_backward_cpu<double>(const double*, int, int, int, double*, GradMode);

}  // namespace s2s::cpu
