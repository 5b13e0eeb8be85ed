// adam_step's kernel and launcher (kernels/adam_step.h). Round-to-nearest intrinsics keep the
// compiler from fusing multiply-adds, so each update is the CPU reference's operation for
// operation (sqrtf and division are IEEE-exact in this build).
#include "kernels/adam_step.h"

#include <cmath>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

__global__ void adam_step_kernel(float* params, const float* grads, float* m, float* v,
                                 std::size_t n, float step_size, float beta1, float beta2,
                                 float one_minus_beta1, float one_minus_beta2, float eps) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float g = grads[i];
    const float m_new = __fadd_rn(__fmul_rn(beta1, m[i]), __fmul_rn(one_minus_beta1, g));
    const float v_new =
        __fadd_rn(__fmul_rn(beta2, v[i]), __fmul_rn(__fmul_rn(one_minus_beta2, g), g));
    m[i] = m_new;
    v[i] = v_new;
    const float update = __fdiv_rn(__fmul_rn(step_size, m_new), __fadd_rn(sqrtf(v_new), eps));
    params[i] = __fsub_rn(params[i], update);
  }
}

}  // namespace

void adam_step_cuda(float* params, const float* grads, float* m, float* v, std::size_t n,
                    float lr, float beta1, float beta2, float eps, std::int64_t step,
                    Stream stream) {
  if (n == 0) return;
  const double steps = static_cast<double>(step);
  const double correction1 = 1.0 - std::pow(static_cast<double>(beta1), steps);
  const double correction2 = 1.0 - std::pow(static_cast<double>(beta2), steps);
  const float step_size =
      static_cast<float>(static_cast<double>(lr) * std::sqrt(correction2) / correction1);
  adam_step_kernel<<<detail::grid_for(n), detail::kThreadsPerBlock, 0, stream>>>(
      params, grads, m, v, n, step_size, beta1, beta2, 1.0f - beta1, 1.0f - beta2, eps);
  S2S_CUDA_CHECK_LAUNCH("adam_step_kernel");
}

}  // namespace s2s::cuda
