// The recurrent stack's orchestration, written once for every backend: layers x time steps,
// masking of padded steps, the one-hot and repeated inputs, and the backward sweep, as a
// template over an executor that supplies GEMM, the pointwise step launches, copies and the
// reductions. host/cpu/rnn_cpu.cpp runs it with the CPU executor (CBLAS and the vectorised cell
// loops), host/cuda/cuda_rnn.cpp with the CUDA executor (cuBLAS and kernels/), and
// tests/test_executor_orchestration.cpp with an executor that emulates the CUDA one on the CPU.
//
// Structure: per layer, the input projection of all T*B rows is one GEMM (a column gather in
// one-hot mode; one GEMM over B rows, copied to every step, with a repeated input); each step
// runs one recurrent GEMM over the batch and one fused pointwise step; backward runs the steps
// in reverse with one GEMM per step for the recurrent state gradient, then the weight gradients
// and the input gradient as one GEMM each over all T, and the bias gradients as column sums.
// Nothing is allocated: the cache and the scratch live in the workspace (host/rnn_workspace.h).
//
// Workspace layout, in elements (G gates, H hidden, T steps, B batch), per layer k = 0..L-1,
// written by rnn_stack_forward and read by rnn_stack_backward:
//   gates   [T, B, G*H]    activated gates (LSTM i f g o, GRU r z n, RNN h); the backward
//                          overwrites them with the gradient of the input-side pre-activations
//                          (with a repeated input, layer 0's step-0 rows end as their sum over
//                          steps)
//   hseq    [T+1, B, H]    slot 0 = h0 of the layer, slot t+1 = output at step t (0 when padded),
//                          so slot t is h_{t-1} of every real step t and slots 1..T are the next
//                          layer's input
//   cseq    [T+1, B, H]    LSTM only: slot 0 = c0, slot t+1 = cell state after real step t
//                          (unwritten at padded steps)
//   hh_new  [T, B, H]      GRU only: W_hn h_{t-1} + b_hn, the term the reset gate multiplies
// then one scratch region shared by both passes (sized for the larger):
//   forward:  recurrent [B, G*H]  W_hh h_{t-1} of the current step
//   backward: dh_state [B, H], dc_state [B, H] (LSTM), dgates_hh [T, B, G*H] (GRU only: its
//             recurrent-side gradient differs from the input side in the n gate),
//             dlayer_output [T, B, H] (L > 1: gradient w.r.t. the output of the layer below)
//
// The executor `Ex` (duck-typed; all pointers in the backend's memory, lengths included):
//   using Scalar = T;
//   gemm(GemmOp op_a, GemmOp op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
//       column-major, exactly cublasSgemm's arguments: C[m, n] = alpha op(A) op(B) + beta C
//       (beta == 0 does not read C). The row-major products below are mapped onto it once,
//       in gemm_row_major.
//   copy(dst, src, elements); zero(dst, elements)
//   one_hot_gather(weight_ih, tokens, lengths, T, B, V, GH, gates)
//   one_hot_scatter(tokens, lengths, T, B, V, GH, dgates, dweight_ih, accumulate)
//   lstm_forward(B, H, t, lengths, recurrent, bias_ih, bias_hh, c_prev, gates, c_next, h_next)
//   gru_forward(B, H, t, lengths, recurrent, bias_ih, bias_hh, h_prev, gates, hh_new, h_next)
//   rnn_forward(B, H, t, lengths, recurrent, bias_ih, bias_hh, gates, h_next)
//   lstm_backward(B, H, t, lengths, c_prev, c_now, doutput, gates, dh_state, dc_state)
//   gru_backward(B, H, t, lengths, h_prev, hh_new, doutput, gates, dgates_hh, dh_state)
//   rnn_backward(B, H, t, lengths, doutput, gates, dh_state)
//       one pointwise step over the batch, padded rows (t >= lengths[b]) included; arguments as
//       the fields of the step structs in kernels/<cell>_pointwise.h, which document them
//   final_state(state_seq [T+1, B, H], lengths, B, H, out [B, H]): slot lengths[b] of each row
//   bias_gradients(dgates, dgates_hh, rows, width, dbias_ih, dbias_hh, accumulate): the column
//       sums of dgates into dbias_ih and of dgates_hh into dbias_hh; dgates_hh == dgates (LSTM,
//       RNN) lets the executor sum once
//   sum_steps(data [steps, step_size], steps, step_size): data[0] = sum over steps (repeated
//       input)
#pragma once

#include <cstddef>
#include <cstdint>

#include "rnn_workspace.h"
#include "s2s/backend.h"

namespace s2s {

// cuBLAS' cublasOperation_t, without its header: N = as stored, T = transposed.
enum class GemmOp { n, t };

// Row-major C[m, n] = alpha op(A) op(B) + beta C on a column-major GEMM: a row-major X with row
// stride ld is the column-major X^T with leading dimension ld, so C^T = op(B)^T op(A)^T is the
// column-major product with A and B (and m and n) swapped, each keeping its transpose flag.
template <typename Ex, typename T>
void gemm_row_major(Ex& ex, bool trans_a, bool trans_b, int m, int n, int k, T alpha, const T* a,
                    int lda, const T* b, int ldb, T beta, T* c, int ldc) {
  ex.gemm(trans_b ? GemmOp::t : GemmOp::n, trans_a ? GemmOp::t : GemmOp::n, n, m, k, alpha, b,
          ldb, a, lda, beta, c, ldc);
}

// One pointwise step of the forward pass, by cell.
template <typename Ex, typename T>
void step_forward(Ex& ex, const RnnDims& dims, int t, const std::int32_t* lengths,
                  const RnnLayerWeights<T>& w, const LayerCache<T>& cache, const T* recurrent) {
  const int B = dims.batch;
  const int H = dims.hidden_size;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  T* gates = cache.gates + static_cast<std::size_t>(t) * B * gate_count(dims.cell) * H;
  T* h_next = cache.hseq + (t + 1) * BH;
  switch (dims.cell) {
    case CellType::lstm:
      ex.lstm_forward(B, H, t, lengths, recurrent, w.bias_ih, w.bias_hh, cache.cseq + t * BH,
                      gates, cache.cseq + (t + 1) * BH, h_next);
      break;
    case CellType::gru:
      ex.gru_forward(B, H, t, lengths, recurrent, w.bias_ih, w.bias_hh, cache.hseq + t * BH,
                     gates, cache.hh_new + t * BH, h_next);
      break;
    case CellType::rnn:
      ex.rnn_forward(B, H, t, lengths, recurrent, w.bias_ih, w.bias_hh, gates, h_next);
      break;
  }
}

// Forward over the stack; arguments as Ops::rnn_forward (include/s2s/backend.h).
template <typename Ex, typename T>
void rnn_stack_forward(Ex& ex, const RnnDims& dims, const RnnLayerWeights<T>* weights,
                       RnnInput<T> input, const std::int32_t* lengths, const T* h0, const T* c0,
                       T* y, T* hn, T* cn, T* workspace) {
  const RnnWorkspaceLayout layout(dims);
  const int B = dims.batch;
  const int H = dims.hidden_size;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  const int gate_width = gate_count(dims.cell) * H;
  const int rows = dims.seq_len * B;
  const bool lstm = dims.cell == CellType::lstm;
  T* recurrent = workspace + static_cast<std::size_t>(dims.layers) * layout.per_layer;

  for (int k = 0; k < dims.layers; ++k) {
    const LayerCache<T> cache = layer_cache(dims, layout, workspace, k);
    const RnnLayerWeights<T>& w = weights[k];
    // Input projection of every row (biases are added in the step).
    if (k == 0 && input.tokens != nullptr) {
      ex.one_hot_gather(w.weight_ih, input.tokens, lengths, dims.seq_len, B, dims.input_size,
                        gate_width, cache.gates);
    } else if (k == 0 && input.x_repeated) {
      gemm_row_major(ex, false, true, B, gate_width, dims.input_size, T(1), input.x,
                     dims.input_size, w.weight_ih, dims.input_size, T(0), cache.gates,
                     gate_width);
      const std::size_t step_size = static_cast<std::size_t>(B) * gate_width;
      for (int t = 1; t < dims.seq_len; ++t) ex.copy(cache.gates + t * step_size, cache.gates,
                                                    step_size);
    } else {
      const int input_width = k == 0 ? dims.input_size : H;
      const T* layer_input = k == 0 ? input.x : layer_cache(dims, layout, workspace, k - 1).hseq + BH;
      gemm_row_major(ex, false, true, rows, gate_width, input_width, T(1), layer_input,
                     input_width, w.weight_ih, input_width, T(0), cache.gates, gate_width);
    }

    if (h0 != nullptr) ex.copy(cache.hseq, h0 + k * BH, BH);
    else ex.zero(cache.hseq, BH);
    if (lstm) {
      if (c0 != nullptr) ex.copy(cache.cseq, c0 + k * BH, BH);
      else ex.zero(cache.cseq, BH);
    }

    for (int t = 0; t < dims.seq_len; ++t) {
      // Padded rows of h_{t-1} are zeros; their products are computed and ignored, which is
      // cheaper than compacting the batch at these sizes.
      gemm_row_major(ex, false, true, B, gate_width, H, T(1), cache.hseq + t * BH, H,
                     w.weight_hh, H, T(0), recurrent, gate_width);
      step_forward(ex, dims, t, lengths, w, cache, recurrent);
    }
    // Final states: slot lengths[b] of each sequence (padded steps never wrote a state).
    if (hn != nullptr) ex.final_state(cache.hseq, lengths, B, H, hn + k * BH);
    if (lstm && cn != nullptr) ex.final_state(cache.cseq, lengths, B, H, cn + k * BH);
  }
  const T* top_output = layer_cache(dims, layout, workspace, dims.layers - 1).hseq + BH;
  if (y != nullptr) ex.copy(y, top_output, layout.sequence);  // y nullable: the model may read the cache
}

// Backward over the stack; arguments as Ops::rnn_backward (h0 and c0 are cached by the forward).
template <typename Ex, typename T>
void rnn_stack_backward(Ex& ex, const RnnDims& dims, const RnnLayerWeights<T>* weights,
                        RnnInput<T> input, const std::int32_t* lengths, const T* dy,
                        const T* dhn, const T* dcn, T* dx, T* dh0, T* dc0,
                        const RnnLayerGrads<T>* grads, GradMode mode, T* workspace) {
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
  const T beta = accumulate ? T(1) : T(0);

  const BackwardScratch<T> views = backward_scratch(dims, layout, workspace);
  T* const dh_state = views.dh_state;
  T* const dc_state = views.dc_state;
  T* const dlayer_output = views.dlayer_output;

  for (int k = dims.layers - 1; k >= 0; --k) {
    const LayerCache<T> cache = layer_cache(dims, layout, workspace, k);
    const RnnLayerWeights<T>& w = weights[k];
    const RnnLayerGrads<T>& g = grads[k];
    // Gradient w.r.t. this layer's output sequence: the caller's dy on top, else what the layer
    // above sent down.
    const T* doutput = k == dims.layers - 1 ? dy : dlayer_output;
    T* dgates = cache.gates;  // overwritten in place, step by step
    T* dgates_hh = gru ? views.dgates_hh_gru : dgates;

    if (dhn != nullptr) ex.copy(dh_state, dhn + k * BH, BH);
    else ex.zero(dh_state, BH);
    if (lstm) {
      if (dcn != nullptr) ex.copy(dc_state, dcn + k * BH, BH);
      else ex.zero(dc_state, BH);
    }

    for (int t = T_steps - 1; t >= 0; --t) {
      const std::size_t step_gates = static_cast<std::size_t>(t) * B * gate_width;
      const T* dout = doutput != nullptr ? doutput + t * BH : nullptr;
      switch (dims.cell) {
        case CellType::lstm:
          ex.lstm_backward(B, H, t, lengths, cache.cseq + t * BH, cache.cseq + (t + 1) * BH, dout,
                           dgates + step_gates, dh_state, dc_state);
          break;
        case CellType::gru:
          ex.gru_backward(B, H, t, lengths, cache.hseq + t * BH, cache.hh_new + t * BH, dout,
                          dgates + step_gates, dgates_hh + step_gates, dh_state);
          break;
        case CellType::rnn:
          ex.rnn_backward(B, H, t, lengths, dout, dgates + step_gates, dh_state);
          break;
      }
      // dh_{t-1} += dgates_hh W_hh; padded rows add zero and so keep their carried gradient.
      gemm_row_major(ex, false, false, B, H, gate_width, T(1), dgates_hh + step_gates,
                     gate_width, w.weight_hh, H, T(1), dh_state, H);
    }

    if (dh0 != nullptr) ex.copy(dh0 + k * BH, dh_state, BH);
    if (lstm && dc0 != nullptr) ex.copy(dc0 + k * BH, dc_state, BH);

    // Parameter gradients over all steps at once; padded rows of dgates are zero.
    gemm_row_major(ex, true, false, gate_width, H, rows, T(1), dgates_hh, gate_width, cache.hseq,
                   H, beta, g.dweight_hh, H);
    ex.bias_gradients(dgates, dgates_hh, rows, gate_width, g.dbias_ih, g.dbias_hh, accumulate);

    const int input_width = k == 0 ? dims.input_size : H;
    if (k == 0 && input.tokens != nullptr) {
      // The projection of token v is column v of W_ih, so its gradient lands in that column.
      ex.one_hot_scatter(input.tokens, lengths, T_steps, B, input_width, gate_width, dgates,
                         g.dweight_ih, accumulate);
      continue;
    }
    const T* layer_input =
        k == 0 ? input.x : layer_cache(dims, layout, workspace, k - 1).hseq + BH;
    int input_rows = rows;
    if (k == 0 && input.x_repeated) {
      // Every step read the same x, so the step gradients add up before the GEMMs: summed into
      // step 0's rows (dgates is not read again: the recurrent and bias gradients are done).
      ex.sum_steps(dgates, T_steps, static_cast<std::size_t>(B) * gate_width);
      input_rows = B;
    }
    gemm_row_major(ex, true, false, gate_width, input_width, input_rows, T(1), dgates,
                   gate_width, layer_input, input_width, beta, g.dweight_ih, input_width);
    // The input gradient becomes the layer below's output gradient, or the caller's dx.
    T* dinput = k > 0 ? dlayer_output : dx;
    if (dinput != nullptr) {
      gemm_row_major(ex, false, false, input_rows, input_width, gate_width, T(1), dgates,
                     gate_width, w.weight_ih, input_width, T(0), dinput, input_width);
    }
  }
}

}  // namespace s2s
