// CPU reference of the whole-buffer ops of training: global norm, clipping by it, and the SGD and
// Adam updates over the flat parameter buffer.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "cpu/ops_cpu.h"

namespace s2s::cpu {

// Sum of squares in double: millions of float squares summed in float would lose the small ones.
// No scaling trick: a NaN or inf anywhere must reach the result (the trainer uses it as its
// finiteness check).
template <typename T>
void global_norm_cpu(const T* x, std::size_t n, T* out) {
  double sum_squares = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double value = static_cast<double>(x[i]);
    sum_squares += value * value;
  }
  out[0] = static_cast<T>(std::sqrt(sum_squares));
}

// tf.clip_by_global_norm: a norm at or under max_norm leaves x as it is (the scale is exactly
// 1); above, x is scaled onto the sphere of radius max_norm. As in TensorFlow, a non-finite norm
// turns every value into NaN, so the failure is seen rather than hidden by a zero scale.
template <typename T>
void clip_by_norm_cpu(T* x, std::size_t n, const T* norm, T max_norm) {
  const T current = norm[0];
  if (std::isfinite(current) && current <= max_norm) return;
  const T scale = std::isfinite(current) ? max_norm / current
                                         : std::numeric_limits<T>::quiet_NaN();
  for (std::size_t i = 0; i < n; ++i) x[i] *= scale;
}

// PyTorch's SGD (no dampening, no Nesterov). With momentum 0 the velocity is neither read nor
// written, so callers need not allocate it.
template <typename T>
void sgd_step_cpu(T* params, const T* grads, T* velocity, std::size_t n, T lr, T momentum) {
  if (momentum == T(0)) {
    for (std::size_t i = 0; i < n; ++i) params[i] -= lr * grads[i];
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    velocity[i] = momentum * velocity[i] + grads[i];
    params[i] -= lr * velocity[i];
  }
}

// Keras' Adam: the bias corrections fold into the step size, and eps is added to sqrt(v) without
// correcting v (unlike PyTorch, which adds eps to sqrt(v_hat)). The corrections are computed in
// double, where beta^step does not underflow early.
template <typename T>
void adam_step_cpu(T* params, const T* grads, T* m, T* v, std::size_t n, T lr, T beta1, T beta2,
                   T eps, std::int64_t step) {
  const double steps = static_cast<double>(step);
  const double correction1 = 1.0 - std::pow(static_cast<double>(beta1), steps);
  const double correction2 = 1.0 - std::pow(static_cast<double>(beta2), steps);
  const T step_size =
      static_cast<T>(static_cast<double>(lr) * std::sqrt(correction2) / correction1);
  const T one_minus_beta1 = T(1) - beta1;
  const T one_minus_beta2 = T(1) - beta2;
  for (std::size_t i = 0; i < n; ++i) {
    const T g = grads[i];
    m[i] = beta1 * m[i] + one_minus_beta1 * g;
    v[i] = beta2 * v[i] + one_minus_beta2 * g * g;
    params[i] -= step_size * m[i] / (std::sqrt(v[i]) + eps);
  }
}

template void global_norm_cpu<float>(const float*, std::size_t, float*);
template void global_norm_cpu<double>(const double*, std::size_t, double*);
template void clip_by_norm_cpu<float>(float*, std::size_t, const float*, float);
template void clip_by_norm_cpu<double>(double*, std::size_t, const double*, double);
template void sgd_step_cpu<float>(float*, const float*, float*, std::size_t, float, float);
template void sgd_step_cpu<double>(double*, const double*, double*, std::size_t, double, double);
template void adam_step_cpu<float>(float*, const float*, float*, float*, std::size_t, float, float,
                                   float, float, std::int64_t);
template void adam_step_cpu<double>(double*, const double*, double*, double*, std::size_t, double,
                                    double, double, double, std::int64_t);

}  // namespace s2s::cpu
