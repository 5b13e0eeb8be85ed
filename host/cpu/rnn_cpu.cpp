// CPU reference of a stack of recurrent layers (LSTM, GRU, tanh RNN) over a padded batch, forward
// and backward, with the equations and weight layout of torch.nn.LSTM / GRU / RNN.
//
// Structure (the one the CUDA backend mirrors): per layer, the input projection of all T*B rows
// is one GEMM (a column gather in one-hot mode); each step runs one recurrent GEMM over the
// batch and one fused pointwise loop; backward runs the steps in reverse with one GEMM per step
// for the recurrent state gradient, then weight gradients and the input gradient as one GEMM
// each over all T. Nothing is allocated: the cache and the scratch live in the workspace.
//
// Workspace layout, in elements (G gates, H hidden, T steps, B batch), per layer k = 0..L-1,
// written by rnn_forward and read by rnn_backward:
//   gates   [T, B, G*H]    activated gates (LSTM i f g o, GRU r z n, RNN h); rnn_backward
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
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "cpu/activations.h"
#include "cpu/blas.h"
#include "cpu/ops_cpu.h"
#include "rnn_workspace.h"

// Runtime-dispatched AVX2 copies of the cell loops: GCC on x86-64 only.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define S2S_CPU_AVX2_DISPATCH 1
#else
#define S2S_CPU_AVX2_DISPATCH 0
#endif

namespace s2s::cpu {
namespace {

// Writes the input projection x W_ih^T of every row (biases are added in the step loop): one GEMM
// for dense input; in one-hot mode row (t, b) is column tokens[t, b] of W_ih, gathered at real
// steps only (tokens at padded steps are never read); with a repeated input (x [B, In] at every
// step) one GEMM over the B rows of step 0, copied to the other steps.
template <typename T>
void input_projection(const RnnDims& dims, const T* weight_ih, const T* layer_input,
                      const std::int32_t* tokens, bool repeated, int input_width,
                      const std::int32_t* lengths, T* gates) {
  const int rows = dims.seq_len * dims.batch;
  const int gate_width = gate_count(dims.cell) * dims.hidden_size;
  if (tokens == nullptr) {
    const int gemm_rows = repeated ? dims.batch : rows;
    gemm<T>(false, true, gemm_rows, gate_width, input_width, T(1), layer_input, input_width,
            weight_ih, input_width, T(0), gates, gate_width);
    if (repeated) {
      const std::size_t step_size = static_cast<std::size_t>(dims.batch) * gate_width;
      for (int t = 1; t < dims.seq_len; ++t) {
        std::copy(gates, gates + step_size, gates + t * step_size);
      }
    }
    return;
  }
  for (int t = 0; t < dims.seq_len; ++t) {
    for (int b = 0; b < dims.batch; ++b) {
      if (t >= lengths[b]) continue;
      const T* column = weight_ih + tokens[t * dims.batch + b];
      T* row = gates + (static_cast<std::size_t>(t) * dims.batch + b) * gate_width;
      for (int g = 0; g < gate_width; ++g) {
        row[g] = column[static_cast<std::size_t>(g) * input_width];
      }
    }
  }
}

// The cell loops, compiled twice (see rnn_cells.inc). The float path uses the AVX2+FMA copy
// where the CPU has it: 8 lanes instead of SSE2's 4 for the gate activations, which are most of
// the pointwise time. double always takes the portable copy, so the reference computes the same
// bits on every x86-64 machine (FMA contraction would change them).
namespace portable {
#include "cpu/rnn_cells.inc"
}  // namespace portable
#if S2S_CPU_AVX2_DISPATCH
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#include "cpu/rnn_cells.inc"
}  // namespace avx2
#pragma GCC pop_options

std::atomic<bool> avx2_cells_allowed{true};

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has && avx2_cells_allowed.load(std::memory_order_relaxed);
}
#define S2S_CELL_DISPATCH(name, ...)                             \
  if (std::is_same<T, float>::value && cpu_has_avx2()) {         \
    avx2::name(__VA_ARGS__);                                     \
  } else {                                                       \
    portable::name(__VA_ARGS__);                                 \
  }
#else
#define S2S_CELL_DISPATCH(name, ...) portable::name(__VA_ARGS__);
#endif

template <typename T>
void lstm_step_forward(int H, const T* rec, const T* b_ih, const T* b_hh, const T* c_prev,
                       T* c_next, T* gate, T* h_next) {
  S2S_CELL_DISPATCH(lstm_step_forward, H, rec, b_ih, b_hh, c_prev, c_next, gate, h_next)
}
template <typename T>
void gru_step_forward(int H, const T* rec, const T* b_ih, const T* b_hh, const T* h_prev,
                      T* hh_new, T* gate, T* h_next) {
  S2S_CELL_DISPATCH(gru_step_forward, H, rec, b_ih, b_hh, h_prev, hh_new, gate, h_next)
}
template <typename T>
void rnn_step_forward(int H, const T* rec, const T* b_ih, const T* b_hh, T* gate, T* h_next) {
  S2S_CELL_DISPATCH(rnn_step_forward, H, rec, b_ih, b_hh, gate, h_next)
}
template <typename T>
void lstm_step_backward(int H, const T* c_prev, const T* c_now, T* dc_carry, T* dh, T* dgate) {
  S2S_CELL_DISPATCH(lstm_step_backward, H, c_prev, c_now, dc_carry, dh, dgate)
}
template <typename T>
void gru_step_backward(int H, const T* h_prev, const T* hh_new, T* dh, T* dgate, T* dgate_hh) {
  S2S_CELL_DISPATCH(gru_step_backward, H, h_prev, hh_new, dh, dgate, dgate_hh)
}
template <typename T>
void rnn_step_backward(int H, T* dh, T* dgate) {
  S2S_CELL_DISPATCH(rnn_step_backward, H, dh, dgate)
}
#undef S2S_CELL_DISPATCH

// One layer over all steps. layer_input is [T, B, input_width] ([B, input_width] when repeated;
// unused in one-hot mode); h0 and c0 are this layer's [B, H] slices, nullable.
template <typename T>
void layer_forward(const RnnDims& dims, const RnnLayerWeights<T>& weights, const T* layer_input,
                   const std::int32_t* tokens, bool repeated, int input_width,
                   const std::int32_t* lengths,
                   const T* h0, const T* c0, const LayerCache<T>& cache, T* recurrent) {
  const int B = dims.batch;
  const int H = dims.hidden_size;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  const int gate_width = gate_count(dims.cell) * H;

  input_projection(dims, weights.weight_ih, layer_input, tokens, repeated, input_width, lengths,
                   cache.gates);

  if (h0 != nullptr) std::copy(h0, h0 + BH, cache.hseq);
  else std::fill(cache.hseq, cache.hseq + BH, T(0));
  if (dims.cell == CellType::lstm) {
    if (c0 != nullptr) std::copy(c0, c0 + BH, cache.cseq);
    else std::fill(cache.cseq, cache.cseq + BH, T(0));
  }

  const T* b_ih = weights.bias_ih;
  const T* b_hh = weights.bias_hh;
  for (int t = 0; t < dims.seq_len; ++t) {
    const T* h_prev = cache.hseq + t * BH;
    T* h_next = cache.hseq + (t + 1) * BH;
    // Padded rows of h_prev are zeros; their products are computed and ignored, which is cheaper
    // than compacting the batch at these sizes.
    gemm<T>(false, true, B, gate_width, H, T(1), h_prev, H, weights.weight_hh, H, T(0),
            recurrent, gate_width);
    for (int b = 0; b < B; ++b) {
      const std::size_t state_row = static_cast<std::size_t>(b) * H;
      T* gate = cache.gates + (static_cast<std::size_t>(t) * B + b) * gate_width;
      const T* rec = recurrent + static_cast<std::size_t>(b) * gate_width;
      if (t >= lengths[b]) {
        // The output is zero; the state is read from slot lengths[b] at the end, so nothing
        // needs carrying (cseq is left unwritten here and never read).
        std::fill(h_next + state_row, h_next + state_row + H, T(0));
        continue;
      }
      T* h_row = h_next + state_row;
      switch (dims.cell) {
        case CellType::lstm:
          lstm_step_forward(H, rec, b_ih, b_hh, cache.cseq + t * BH + state_row,
                            cache.cseq + (t + 1) * BH + state_row, gate, h_row);
          break;
        case CellType::gru:
          gru_step_forward(H, rec, b_ih, b_hh, h_prev + state_row,
                           cache.hh_new + t * BH + state_row, gate, h_row);
          break;
        case CellType::rnn:
          rnn_step_forward(H, rec, b_ih, b_hh, gate, h_row);
          break;
      }
    }
  }
}

// Adds (or writes, when overwrite) the column sums of rows [rows, width] into out [width].
template <typename T>
void sum_rows(const T* rows_data, int rows, int width, T* out, bool overwrite) {
  if (overwrite) std::fill(out, out + width, T(0));
  for (int r = 0; r < rows; ++r) {
    const T* row = rows_data + static_cast<std::size_t>(r) * width;
    for (int g = 0; g < width; ++g) out[g] += row[g];
  }
}

}  // namespace

bool allow_avx2_cells(bool allowed) {
#if S2S_CPU_AVX2_DISPATCH
  avx2_cells_allowed.store(allowed, std::memory_order_relaxed);
  return cpu_has_avx2();
#else
  (void)allowed;
  return false;
#endif
}

std::size_t rnn_workspace_size_cpu(const RnnDims& dims) {
  return RnnWorkspaceLayout(dims).total(dims.layers);
}

template <typename T>
void rnn_forward_cpu(const RnnDims& dims, const RnnLayerWeights<T>* weights, RnnInput<T> input,
                     const std::int32_t* lengths, const T* h0, const T* c0, T* y, T* hn, T* cn,
                     T* workspace) {
  const RnnWorkspaceLayout layout(dims);
  const int B = dims.batch;
  const int H = dims.hidden_size;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  T* recurrent = workspace + static_cast<std::size_t>(dims.layers) * layout.per_layer;
  const bool lstm = dims.cell == CellType::lstm;

  for (int k = 0; k < dims.layers; ++k) {
    const LayerCache<T> cache = layer_cache(dims, layout, workspace, k);
    const T* layer_input = input.x;
    const std::int32_t* tokens = input.tokens;
    bool repeated = input.x_repeated;
    int input_width = dims.input_size;
    if (k > 0) {
      layer_input = layer_cache(dims, layout, workspace, k - 1).hseq + BH;
      tokens = nullptr;
      repeated = false;
      input_width = H;
    }
    layer_forward(dims, weights[k], layer_input, tokens, repeated, input_width, lengths,
                  h0 != nullptr ? h0 + k * BH : nullptr,
                  lstm && c0 != nullptr ? c0 + k * BH : nullptr, cache, recurrent);

    for (int b = 0; b < B; ++b) {
      const std::size_t final_row = static_cast<std::size_t>(lengths[b]) * BH + b * H;
      if (hn != nullptr) {
        std::copy(cache.hseq + final_row, cache.hseq + final_row + H, hn + k * BH + b * H);
      }
      if (lstm && cn != nullptr) {
        std::copy(cache.cseq + final_row, cache.cseq + final_row + H, cn + k * BH + b * H);
      }
    }
  }
  const T* top_output = layer_cache(dims, layout, workspace, dims.layers - 1).hseq + BH;
  if (y != nullptr) std::copy(top_output, top_output + layout.sequence, y);
}

template <typename T>
void rnn_backward_cpu(const RnnDims& dims, const RnnLayerWeights<T>* weights, RnnInput<T> input,
                      const std::int32_t* lengths, const T* /*h0: cached by rnn_forward*/,
                      const T* /*c0: cached by rnn_forward*/, const T* dy, const T* dhn,
                      const T* dcn, T* dx, T* dh0, T* dc0, const RnnLayerGrads<T>* grads,
                      GradMode mode, T* workspace) {
  const RnnWorkspaceLayout layout(dims);
  const int B = dims.batch;
  const int H = dims.hidden_size;
  const int T_steps = dims.seq_len;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  const int gate_width = gate_count(dims.cell) * H;
  const int rows = T_steps * B;
  const bool lstm = dims.cell == CellType::lstm;
  const bool gru = dims.cell == CellType::gru;
  const bool overwrite = mode == GradMode::overwrite;
  const T beta = overwrite ? T(0) : T(1);

  const BackwardScratch<T> views = backward_scratch(dims, layout, workspace);
  T* const dh_state = views.dh_state;
  T* const dc_state = views.dc_state;
  T* const dgates_hh_gru = views.dgates_hh_gru;
  T* const dlayer_output = views.dlayer_output;

  for (int k = dims.layers - 1; k >= 0; --k) {
    const LayerCache<T> cache = layer_cache(dims, layout, workspace, k);
    const RnnLayerWeights<T>& w = weights[k];
    const RnnLayerGrads<T>& g = grads[k];
    // Gradient w.r.t. this layer's output sequence: the caller's dy on top, else what the layer
    // above sent down.
    const T* doutput = k == dims.layers - 1 ? dy : dlayer_output;
    T* dgates = cache.gates;  // overwritten in place, step by step
    T* dgates_hh = gru ? dgates_hh_gru : dgates;

    if (dhn != nullptr) std::copy(dhn + k * BH, dhn + (k + 1) * BH, dh_state);
    else std::fill(dh_state, dh_state + BH, T(0));
    if (lstm) {
      if (dcn != nullptr) std::copy(dcn + k * BH, dcn + (k + 1) * BH, dc_state);
      else std::fill(dc_state, dc_state + BH, T(0));
    }

    for (int t = T_steps - 1; t >= 0; --t) {
      const T* h_prev = cache.hseq + t * BH;
      for (int b = 0; b < B; ++b) {
        const std::size_t state_row = static_cast<std::size_t>(b) * H;
        const std::size_t gate_row = (static_cast<std::size_t>(t) * B + b) * gate_width;
        T* dgate = dgates + gate_row;
        if (t >= lengths[b]) {
          // The state gradient passes a padded step unchanged: zero gate gradients make the
          // recurrent GEMM below add nothing to this row, and parameters get nothing from it.
          std::fill(dgate, dgate + gate_width, T(0));
          if (gru) std::fill(dgates_hh + gate_row, dgates_hh + gate_row + gate_width, T(0));
          continue;
        }
        T* dh = dh_state + state_row;
        if (doutput != nullptr) {
          const T* dout = doutput + t * BH + state_row;
          for (int j = 0; j < H; ++j) dh[j] += dout[j];
        }
        switch (dims.cell) {
          case CellType::lstm:
            lstm_step_backward(H, cache.cseq + t * BH + state_row,
                               cache.cseq + (t + 1) * BH + state_row, dc_state + state_row, dh,
                               dgate);
            break;
          case CellType::gru:
            gru_step_backward(H, h_prev + state_row, cache.hh_new + t * BH + state_row, dh, dgate,
                              dgates_hh + gate_row);
            break;
          case CellType::rnn:
            rnn_step_backward(H, dh, dgate);
            break;
        }
      }
      // dh_{t-1} += dgates_hh W_hh; padded rows add zero and so keep their carried gradient.
      const T* step_dgates_hh = dgates_hh + static_cast<std::size_t>(t) * B * gate_width;
      gemm<T>(false, false, B, H, gate_width, T(1), step_dgates_hh, gate_width, w.weight_hh, H,
              T(1), dh_state, H);
    }

    if (dh0 != nullptr) std::copy(dh_state, dh_state + BH, dh0 + k * BH);
    if (lstm && dc0 != nullptr) std::copy(dc_state, dc_state + BH, dc0 + k * BH);

    // Parameter gradients over all steps at once; padded rows of dgates are zero.
    gemm<T>(true, false, gate_width, H, rows, T(1), dgates_hh, gate_width, cache.hseq, H, beta,
            g.dweight_hh, H);
    sum_rows(dgates, rows, gate_width, g.dbias_ih, overwrite);
    sum_rows(dgates_hh, rows, gate_width, g.dbias_hh, overwrite);

    const bool one_hot = k == 0 && input.tokens != nullptr;
    const int input_width = k == 0 ? dims.input_size : H;
    if (one_hot) {
      // The projection of token v is column v of W_ih, so its gradient lands in that column.
      const std::size_t weight_size = static_cast<std::size_t>(gate_width) * input_width;
      if (overwrite) std::fill(g.dweight_ih, g.dweight_ih + weight_size, T(0));
      for (int t = 0; t < T_steps; ++t) {
        for (int b = 0; b < B; ++b) {
          if (t >= lengths[b]) continue;
          const T* dgate = dgates + (static_cast<std::size_t>(t) * B + b) * gate_width;
          T* column = g.dweight_ih + input.tokens[t * B + b];
          for (int gi = 0; gi < gate_width; ++gi) {
            column[static_cast<std::size_t>(gi) * input_width] += dgate[gi];
          }
        }
      }
      continue;
    }
    const T* layer_input =
        k == 0 ? input.x : layer_cache(dims, layout, workspace, k - 1).hseq + BH;
    int input_rows = rows;
    if (k == 0 && input.x_repeated) {
      // Every step read the same x, so the step gradients add up before the GEMMs: summed into
      // step 0's rows (dgates is not read again: the recurrent and bias gradients are done).
      const std::size_t step_size = static_cast<std::size_t>(B) * gate_width;
      for (int t = 1; t < T_steps; ++t) {
        const T* step = dgates + t * step_size;
        for (std::size_t i = 0; i < step_size; ++i) dgates[i] += step[i];
      }
      input_rows = B;
    }
    gemm<T>(true, false, gate_width, input_width, input_rows, T(1), dgates, gate_width,
            layer_input, input_width, beta, g.dweight_ih, input_width);
    // The input gradient becomes the layer below's output gradient, or the caller's dx.
    T* dinput = k > 0 ? dlayer_output : dx;
    if (dinput != nullptr) {
      gemm<T>(false, false, input_rows, input_width, gate_width, T(1), dgates, gate_width,
              w.weight_ih, input_width, T(0), dinput, input_width);
    }
  }
}

template void rnn_forward_cpu<float>(const RnnDims&, const RnnLayerWeights<float>*,
                                     RnnInput<float>, const std::int32_t*, const float*,
                                     const float*, float*, float*, float*, float*);
template void rnn_forward_cpu<double>(const RnnDims&, const RnnLayerWeights<double>*,
                                      RnnInput<double>, const std::int32_t*, const double*,
                                      const double*, double*, double*, double*, double*);
template void rnn_backward_cpu<float>(const RnnDims&, const RnnLayerWeights<float>*,
                                      RnnInput<float>, const std::int32_t*, const float*,
                                      const float*, const float*, const float*, const float*,
                                      float*, float*, float*, const RnnLayerGrads<float>*,
                                      GradMode, float*);
template void rnn_backward_cpu<double>(const RnnDims&, const RnnLayerWeights<double>*,
                                       RnnInput<double>, const std::int32_t*, const double*,
                                       const double*, const double*, const double*,
                                       const double*, double*, double*, double*,
                                       const RnnLayerGrads<double>*, GradMode, double*);

}  // namespace s2s::cpu
