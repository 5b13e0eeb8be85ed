// CPU reference of the linear (fully connected) op, y = x W^T + b, with its backward as GEMMs.
#include <cstddef>
#include <vector>

#include "cpu/blas.h"
#include "cpu/ops_cpu.h"

namespace s2s::cpu {

template <typename T>
void linear_forward_cpu(const T* x, const T* weight, const T* bias, int n, int in_features,
                        int out_features, T* y) {
  // y [N, Out] = x [N, In] * weight^T [In, Out]. beta = 0: BLAS does not read y then, so an
  // uninitialised output is fine.
  gemm<T>(false, true, n, out_features, in_features, T(1), x, in_features, weight, in_features,
          T(0), y, out_features);
  if (bias == nullptr) return;
  for (int i = 0; i < n; ++i) {
    T* row = y + static_cast<std::size_t>(i) * out_features;
    for (int o = 0; o < out_features; ++o) row[o] += bias[o];
  }
}

template <typename T>
void linear_backward_cpu(const T* x, const T* weight, const T* dy, int n, int in_features,
                         int out_features, T* dx, T* dweight, T* dbias, GradMode mode) {
  // dx [N, In] = dy [N, Out] * weight [Out, In]; always overwritten (it is an activation
  // gradient, not a parameter gradient).
  if (dx != nullptr) {
    gemm<T>(false, false, n, in_features, out_features, T(1), dy, out_features, weight,
            in_features, T(0), dx, in_features);
  }
  // The mode becomes GEMM's beta: 0 overwrites (without reading the old values), 1 adds.
  const T beta = mode == GradMode::accumulate ? T(1) : T(0);
  if (dweight != nullptr) {
    // dweight [Out, In] = dy^T [Out, N] * x [N, In].
    gemm<T>(true, false, out_features, in_features, n, T(1), dy, out_features, x, in_features,
            beta, dweight, in_features);
  }
  if (dbias != nullptr) {
    // Column sums of dy in double, added once, so accumulate is exactly existing + fresh.
    std::vector<double> sum(static_cast<std::size_t>(out_features), 0.0);
    for (int i = 0; i < n; ++i) {
      const T* row = dy + static_cast<std::size_t>(i) * out_features;
      for (int o = 0; o < out_features; ++o) sum[o] += static_cast<double>(row[o]);
    }
    for (int o = 0; o < out_features; ++o) {
      const T fresh = static_cast<T>(sum[o]);
      dbias[o] = mode == GradMode::accumulate ? dbias[o] + fresh : fresh;
    }
  }
}

template void linear_forward_cpu<float>(const float*, const float*, const float*, int, int, int,
                                        float*);
template void linear_forward_cpu<double>(const double*, const double*, const double*, int, int,
                                         int, double*);
template void linear_backward_cpu<float>(const float*, const float*, const float*, int, int, int,
                                         float*, float*, float*, GradMode);
template void linear_backward_cpu<double>(const double*, const double*, const double*, int, int,
                                          int, double*, double*, double*, GradMode);

}  // namespace s2s::cpu
