// LSTM pointwise step kernels and launchers (kernels/lstm_pointwise.h). One thread per (b, j)
// unit handles its four gates, so no two threads touch the same element.
#include "kernels/lstm_pointwise.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

__global__ void lstm_pointwise_forward_kernel(LstmForwardStep a) {
  const int units = a.batch * a.hidden_size;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < units;
       idx += gridDim.x * blockDim.x)
    lstm_pointwise_forward_unit(a, idx);
}

__global__ void lstm_pointwise_backward_kernel(LstmBackwardStep a) {
  const int units = a.batch * a.hidden_size;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < units;
       idx += gridDim.x * blockDim.x)
    lstm_pointwise_backward_unit(a, idx);
}

}  // namespace

void lstm_pointwise_forward_cuda(const LstmForwardStep& step, Stream stream) {
  const LaunchShape s = grid_stride_shape(static_cast<std::size_t>(step.batch) * step.hidden_size);
  lstm_pointwise_forward_kernel<<<detail::grid_of(s), detail::block_of(s), 0, stream>>>(step);
  S2S_CUDA_CHECK_LAUNCH("lstm_pointwise_forward_kernel");
}

void lstm_pointwise_backward_cuda(const LstmBackwardStep& step, Stream stream) {
  const LaunchShape s = grid_stride_shape(static_cast<std::size_t>(step.batch) * step.hidden_size);
  lstm_pointwise_backward_kernel<<<detail::grid_of(s), detail::block_of(s), 0, stream>>>(step);
  S2S_CUDA_CHECK_LAUNCH("lstm_pointwise_backward_kernel");
}

}  // namespace s2s::cuda
