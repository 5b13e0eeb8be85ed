// CPU reference of the elementwise ops: tanh and its backward (attention's attentional vector),
// multiply (dropout masks) and accumulate (gradients reaching one tensor along two paths).
#include <cmath>
#include <cstddef>

#include "cpu/ops_cpu.h"

namespace s2s::cpu {

template <typename T>
void tanh_forward_cpu(const T* x, std::size_t n, T* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

template <typename T>
void tanh_backward_cpu(const T* y, const T* dy, std::size_t n, T* dx) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] * (T(1) - y[i] * y[i]);
}

template <typename T>
void multiply_cpu(const T* x, const T* mask, std::size_t n, T* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = x[i] * mask[i];
}

template <typename T>
void accumulate_cpu(const T* x, std::size_t n, T* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] += x[i];
}

#define S2S_INSTANTIATE(T)                                                  \
  template void tanh_forward_cpu<T>(const T*, std::size_t, T*);             \
  template void tanh_backward_cpu<T>(const T*, const T*, std::size_t, T*);  \
  template void multiply_cpu<T>(const T*, const T*, std::size_t, T*);       \
  template void accumulate_cpu<T>(const T*, std::size_t, T*);
S2S_INSTANTIATE(float)
S2S_INSTANTIATE(double)
#undef S2S_INSTANTIATE

}  // namespace s2s::cpu
