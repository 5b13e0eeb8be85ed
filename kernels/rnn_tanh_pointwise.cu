// RnnTanh pointwise step kernels and launchers (kernels/rnn_tanh_pointwise.h): one thread per (b, j)
// unit, the body shared with the Kernel* tests (rnn_tanh_pointwise_*_unit).
#include "kernels/rnn_tanh_pointwise.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

__global__ void rnn_tanh_pointwise_forward_kernel(RnnTanhForwardStep a) {
  const int units = a.batch * a.hidden_size;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < units;
       idx += gridDim.x * blockDim.x)
    rnn_tanh_pointwise_forward_unit(a, idx);
}

__global__ void rnn_tanh_pointwise_backward_kernel(RnnTanhBackwardStep a) {
  const int units = a.batch * a.hidden_size;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < units;
       idx += gridDim.x * blockDim.x)
    rnn_tanh_pointwise_backward_unit(a, idx);
}

}  // namespace

void rnn_tanh_pointwise_forward_cuda(const RnnTanhForwardStep& step, Stream stream) {
  const LaunchShape s = grid_stride_shape(static_cast<std::size_t>(step.batch) * step.hidden_size);
  rnn_tanh_pointwise_forward_kernel<<<detail::grid_of(s), detail::block_of(s), 0, stream>>>(step);
  S2S_CUDA_CHECK_LAUNCH("rnn_tanh_pointwise_forward_kernel");
}

void rnn_tanh_pointwise_backward_cuda(const RnnTanhBackwardStep& step, Stream stream) {
  const LaunchShape s = grid_stride_shape(static_cast<std::size_t>(step.batch) * step.hidden_size);
  rnn_tanh_pointwise_backward_kernel<<<detail::grid_of(s), detail::block_of(s), 0, stream>>>(step);
  S2S_CUDA_CHECK_LAUNCH("rnn_tanh_pointwise_backward_kernel");
}

}  // namespace s2s::cuda
