// The CUDA recurrent stack (host/cuda/cuda_rnn.h), step for step the CPU reference's structure
// (host/cpu/rnn_cpu.cpp, whose header comment documents the workspace layout used here too):
// per layer the input projection of all T*B rows as one GEMM (a column gather in one-hot
// mode); per step one recurrent GEMM and one fused pointwise kernel; backward in reverse with
// one GEMM per step for the recurrent state gradient, then dweight_hh, dweight_ih and the
// input gradient as one GEMM each over all T, and the bias gradients as fixed-order column sums.
// Everything is queued on the context's stream; nothing here waits for the device.
#include "cuda/cuda_rnn.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "cuda/cuda_check.h"
#include "cuda/cuda_context.h"
#include "cuda/cuda_gemm.h"
#include "s2s/error.h"
#include "kernels/column_sum.h"
#include "kernels/gru_pointwise.h"
#include "kernels/lstm_pointwise.h"
#include "kernels/one_hot_projection.h"
#include "kernels/rnn_final_state.h"
#include "kernels/rnn_tanh_pointwise.h"
#include "rnn_workspace.h"

namespace s2s::cuda {
namespace {

void copy_async(float* destination, const float* source, std::size_t elements,
                cudaStream_t stream) {
  S2S_CUDA_CHECK(cudaMemcpyAsync(destination, source, elements * sizeof(float),
                                 cudaMemcpyDeviceToDevice, stream));
}

void zero_async(float* destination, std::size_t elements, cudaStream_t stream) {
  S2S_CUDA_CHECK(cudaMemsetAsync(destination, 0, elements * sizeof(float), stream));
}

// Slot 0 of a state sequence: the given initial state, or zeros.
void initial_state(float* slot0, const float* given, std::size_t elements, cudaStream_t stream) {
  if (given != nullptr) copy_async(slot0, given, elements, stream);
  else zero_async(slot0, elements, stream);
}

// One layer over all steps. layer_input is [T, B, input_width] (unused in one-hot mode);
// h0 and c0 are this layer's [B, H] slices, nullable.
void layer_forward(CudaContext& context, const RnnDims& dims,
                   const RnnLayerWeights<float>& weights, const float* layer_input,
                   const std::int32_t* tokens, int input_width, const std::int32_t* lengths,
                   const float* h0, const float* c0, const LayerCache<float>& cache, float* recurrent) {
  const int B = dims.batch;
  const int H = dims.hidden_size;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  const int gate_width = gate_count(dims.cell) * H;
  const int rows = dims.seq_len * B;
  cudaStream_t stream = context.stream();
  cublasHandle_t blas = context.blas();

  // Input projection of every row (biases are added in the step kernels).
  if (tokens != nullptr) {
    one_hot_projection_forward_cuda(weights.weight_ih, tokens, lengths, dims.seq_len, B,
                                    input_width, gate_width, cache.gates, stream);
  } else {
    gemm(blas, false, true, rows, gate_width, input_width, 1.0f, layer_input, input_width,
         weights.weight_ih, input_width, 0.0f, cache.gates, gate_width);
  }

  initial_state(cache.hseq, h0, BH, stream);
  if (dims.cell == CellType::lstm) initial_state(cache.cseq, c0, BH, stream);

  for (int t = 0; t < dims.seq_len; ++t) {
    const float* h_prev = cache.hseq + t * BH;
    float* h_next = cache.hseq + (t + 1) * BH;
    float* gates = cache.gates + static_cast<std::size_t>(t) * B * gate_width;
    // Padded rows of h_prev are zeros; their products are computed and ignored.
    gemm(blas, false, true, B, gate_width, H, 1.0f, h_prev, H, weights.weight_hh, H, 0.0f,
         recurrent, gate_width);
    switch (dims.cell) {
      case CellType::lstm:
        lstm_pointwise_forward_cuda(B, H, t, lengths, recurrent, weights.bias_ih,
                                    weights.bias_hh, cache.cseq + t * BH, gates,
                                    cache.cseq + (t + 1) * BH, h_next, stream);
        break;
      case CellType::gru:
        gru_pointwise_forward_cuda(B, H, t, lengths, recurrent, weights.bias_ih, weights.bias_hh,
                                   h_prev, gates, cache.hh_new + t * BH, h_next, stream);
        break;
      case CellType::rnn:
        rnn_tanh_pointwise_forward_cuda(B, H, t, lengths, recurrent, weights.bias_ih,
                                        weights.bias_hh, gates, h_next, stream);
        break;
    }
  }
}

}  // namespace

std::size_t rnn_workspace_size_cuda(const RnnDims& dims) {
  return RnnWorkspaceLayout(dims).total(dims.layers);
}

void rnn_forward_cuda(CudaContext& context, const RnnDims& dims,
                      const RnnLayerWeights<float>* weights, RnnInput<float> input,
                      const std::int32_t* lengths, const float* h0, const float* c0, float* y,
                      float* hn, float* cn, float* workspace) {
  // The CUDA ops report supports_repeated_input() false, so the model materialises x.
  if (input.x_repeated) throw Error("CUDA rnn ops take x as [T, B, In]; x_repeated is CPU-only");
  const RnnWorkspaceLayout layout(dims);
  const int B = dims.batch;
  const int H = dims.hidden_size;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  float* recurrent = workspace + static_cast<std::size_t>(dims.layers) * layout.per_layer;
  const bool lstm = dims.cell == CellType::lstm;
  cudaStream_t stream = context.stream();

  for (int k = 0; k < dims.layers; ++k) {
    const LayerCache<float> cache = layer_cache(dims, layout, workspace, k);
    const float* layer_input = input.x;
    const std::int32_t* tokens = input.tokens;
    int input_width = dims.input_size;
    if (k > 0) {
      layer_input = layer_cache(dims, layout, workspace, k - 1).hseq + BH;
      tokens = nullptr;
      input_width = H;
    }
    layer_forward(context, dims, weights[k], layer_input, tokens, input_width, lengths,
                  h0 != nullptr ? h0 + k * BH : nullptr,
                  lstm && c0 != nullptr ? c0 + k * BH : nullptr, cache, recurrent);
    // Final states: slot lengths[b] of each sequence (padded steps never wrote a state).
    if (hn != nullptr) rnn_final_state_cuda(cache.hseq, lengths, B, H, hn + k * BH, stream);
    if (lstm && cn != nullptr)
      rnn_final_state_cuda(cache.cseq, lengths, B, H, cn + k * BH, stream);
  }
  const float* top_output = layer_cache(dims, layout, workspace, dims.layers - 1).hseq + BH;
  if (y != nullptr) copy_async(y, top_output, layout.sequence, stream);
}

void rnn_backward_cuda(CudaContext& context, const RnnDims& dims,
                       const RnnLayerWeights<float>* weights, RnnInput<float> input,
                       const std::int32_t* lengths, const float* dy, const float* dhn,
                       const float* dcn, float* dx, float* dh0, float* dc0,
                       const RnnLayerGrads<float>* grads, GradMode mode, float* workspace) {
  // The CUDA ops report supports_repeated_input() false, so the model materialises x.
  if (input.x_repeated) throw Error("CUDA rnn ops take x as [T, B, In]; x_repeated is CPU-only");
  const RnnWorkspaceLayout layout(dims);
  const int B = dims.batch;
  const int H = dims.hidden_size;
  const int T_steps = dims.seq_len;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  const int gate_width = gate_count(dims.cell) * H;
  const int rows = T_steps * B;
  const bool lstm = dims.cell == CellType::lstm;
  const bool gru = dims.cell == CellType::gru;
  const bool accumulate = mode == GradMode::accumulate;
  const float beta = accumulate ? 1.0f : 0.0f;
  cudaStream_t stream = context.stream();
  cublasHandle_t blas = context.blas();

  const BackwardScratch<float> views = backward_scratch(dims, layout, workspace);
  float* const dh_state = views.dh_state;
  float* const dc_state = views.dc_state;
  float* const dgates_hh_gru = views.dgates_hh_gru;
  float* const dlayer_output = views.dlayer_output;

  // Device scratch of the reductions (bias sums; one-hot column sums), taken once for the call.
  const bool one_hot = input.tokens != nullptr;
  std::size_t reduction_bytes = column_sum_scratch_bytes(rows, gate_width);
  if (one_hot)
    reduction_bytes = std::max(reduction_bytes, one_hot_projection_backward_scratch_bytes(
                                                    T_steps, B, dims.input_size));
  void* reduction_scratch = context.scratch(reduction_bytes);

  for (int k = dims.layers - 1; k >= 0; --k) {
    const LayerCache<float> cache = layer_cache(dims, layout, workspace, k);
    const RnnLayerWeights<float>& w = weights[k];
    const RnnLayerGrads<float>& g = grads[k];
    // Gradient w.r.t. this layer's output sequence: the caller's dy on top, else what the layer
    // above sent down.
    const float* doutput = k == dims.layers - 1 ? dy : dlayer_output;
    float* dgates = cache.gates;  // overwritten in place, step by step
    float* dgates_hh = gru ? dgates_hh_gru : dgates;

    initial_state(dh_state, dhn != nullptr ? dhn + k * BH : nullptr, BH, stream);
    if (lstm) initial_state(dc_state, dcn != nullptr ? dcn + k * BH : nullptr, BH, stream);

    for (int t = T_steps - 1; t >= 0; --t) {
      const std::size_t step_gates = static_cast<std::size_t>(t) * B * gate_width;
      const float* dout = doutput != nullptr ? doutput + t * BH : nullptr;
      switch (dims.cell) {
        case CellType::lstm:
          lstm_pointwise_backward_cuda(B, H, t, lengths, cache.cseq + t * BH,
                                       cache.cseq + (t + 1) * BH, dout, dgates + step_gates,
                                       dh_state, dc_state, stream);
          break;
        case CellType::gru:
          gru_pointwise_backward_cuda(B, H, t, lengths, cache.hseq + t * BH,
                                      cache.hh_new + t * BH, dout, dgates + step_gates,
                                      dgates_hh + step_gates, dh_state, stream);
          break;
        case CellType::rnn:
          rnn_tanh_pointwise_backward_cuda(B, H, t, lengths, dout, dgates + step_gates, dh_state,
                                           stream);
          break;
      }
      // dh_{t-1} += dgates_hh W_hh; padded rows add zero and so keep their carried gradient.
      gemm(blas, false, false, B, H, gate_width, 1.0f, dgates_hh + step_gates, gate_width,
           w.weight_hh, H, 1.0f, dh_state, H);
    }

    if (dh0 != nullptr) copy_async(dh0 + k * BH, dh_state, BH, stream);
    if (lstm && dc0 != nullptr) copy_async(dc0 + k * BH, dc_state, BH, stream);

    // Parameter gradients over all steps at once; padded rows of dgates are zero.
    gemm(blas, true, false, gate_width, H, rows, 1.0f, dgates_hh, gate_width, cache.hseq, H, beta,
         g.dweight_hh, H);
    column_sum_cuda(dgates, rows, gate_width, g.dbias_ih, accumulate, reduction_scratch,
                    reduction_bytes, stream);
    column_sum_cuda(dgates_hh, rows, gate_width, g.dbias_hh, accumulate, reduction_scratch,
                    reduction_bytes, stream);

    const int input_width = k == 0 ? dims.input_size : H;
    if (k == 0 && one_hot) {
      // The projection of token v is column v of W_ih, so its gradient lands in that column.
      one_hot_projection_backward_cuda(input.tokens, lengths, T_steps, B, input_width,
                                       gate_width, dgates, g.dweight_ih, accumulate,
                                       reduction_scratch, reduction_bytes, stream);
      continue;
    }
    const float* layer_input =
        k == 0 ? input.x : layer_cache(dims, layout, workspace, k - 1).hseq + BH;
    gemm(blas, true, false, gate_width, input_width, rows, 1.0f, dgates, gate_width, layer_input,
         input_width, beta, g.dweight_ih, input_width);
    // The input gradient becomes the layer below's output gradient, or the caller's dx.
    float* dinput = k > 0 ? dlayer_output : dx;
    if (dinput != nullptr) {
      gemm(blas, false, false, rows, input_width, gate_width, 1.0f, dgates, gate_width,
           w.weight_ih, input_width, 0.0f, dinput, input_width);
    }
  }
}

}  // namespace s2s::cuda
