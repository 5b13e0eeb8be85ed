// The CPU executor of the recurrent stack (LSTM, GRU, tanh RNN; float and double): CBLAS GEMMs,
// the vectorised cell loops (host/cpu/rnn_cells.inc over the shared cell math of host/cells/)
// and plain loops for gathers and sums. The orchestration, and the workspace layout it
// documents, is host/rnn_stack.h, shared with the CUDA backend.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "cells/gru_cell.h"
#include "cells/lstm_cell.h"
#include "cells/rnn_tanh_cell.h"
#include "cpu/activations.h"
#include "cpu/blas.h"
#include "cpu/flush_denormals.h"
#include "cpu/ops_cpu.h"
#include "rnn_stack.h"
#include "rnn_workspace.h"

// Runtime-dispatched AVX2 copies of the cell loops: GCC on x86-64 only.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define S2S_CPU_AVX2_DISPATCH 1
#else
#define S2S_CPU_AVX2_DISPATCH 0
#endif

namespace s2s::cpu {
namespace {

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

// Adds (or writes, when overwrite) the column sums of rows [rows, width] into out [width].
template <typename T>
void sum_rows(const T* rows_data, int rows, int width, T* out, bool overwrite) {
  if (overwrite) std::fill(out, out + width, T(0));
  for (int r = 0; r < rows; ++r) {
    const T* row = rows_data + static_cast<std::size_t>(r) * width;
    for (int g = 0; g < width; ++g) out[g] += row[g];
  }
}

// The executor host/rnn_stack.h runs on the CPU. The step methods loop over the batch rows:
// a padded row (t >= lengths[b]) is handled here, a real one by the cell loop.
template <typename T>
class CpuExecutor {
 public:
  using Scalar = T;

  void gemm(GemmOp op_a, GemmOp op_b, int m, int n, int k, T alpha, const T* a, int lda,
            const T* b, int ldb, T beta, T* c, int ldc) {
    gemm_col_major<T>(op_a == GemmOp::t, op_b == GemmOp::t, m, n, k, alpha, a, lda, b, ldb,
                      beta, c, ldc);
  }
  void copy(T* destination, const T* source, std::size_t elements) {
    std::copy(source, source + elements, destination);
  }
  void zero(T* destination, std::size_t elements) {
    std::fill(destination, destination + elements, T(0));
  }

  // Row (t, b) is column tokens[t, b] of W_ih, gathered at real steps only (tokens at padded
  // steps are never read).
  void one_hot_gather(const T* weight_ih, const std::int32_t* tokens, const std::int32_t* lengths,
                      int steps, int B, int V, int GH, T* gates) {
    for (int t = 0; t < steps; ++t) {
      for (int b = 0; b < B; ++b) {
        if (t >= lengths[b]) continue;
        const T* column = weight_ih + tokens[t * B + b];
        T* row = gates + (static_cast<std::size_t>(t) * B + b) * GH;
        for (int g = 0; g < GH; ++g) row[g] = column[static_cast<std::size_t>(g) * V];
      }
    }
  }
  void one_hot_scatter(const std::int32_t* tokens, const std::int32_t* lengths, int steps, int B,
                       int V, int GH, const T* dgates, T* dweight_ih, bool accumulate) {
    if (!accumulate) std::fill(dweight_ih, dweight_ih + static_cast<std::size_t>(GH) * V, T(0));
    for (int t = 0; t < steps; ++t) {
      for (int b = 0; b < B; ++b) {
        if (t >= lengths[b]) continue;
        const T* dgate = dgates + (static_cast<std::size_t>(t) * B + b) * GH;
        T* column = dweight_ih + tokens[t * B + b];
        for (int g = 0; g < GH; ++g) column[static_cast<std::size_t>(g) * V] += dgate[g];
      }
    }
  }

  void lstm_forward(int B, int H, int t, const std::int32_t* lengths, const T* recurrent,
                    const T* b_ih, const T* b_hh, const T* c_prev, T* gates, T* c_next,
                    T* h_next) {
    for (int b = 0; b < B; ++b) {
      const std::size_t row = static_cast<std::size_t>(b) * H;
      // A padded row's output is zero; the state is read from slot lengths[b] at the end, so
      // nothing needs carrying (c_next is left unwritten and never read).
      if (t >= lengths[b]) {
        std::fill(h_next + row, h_next + row + H, T(0));
        continue;
      }
      const std::size_t gate_row = 4 * row;
      S2S_CELL_DISPATCH(lstm_step_forward, H, recurrent + gate_row, b_ih, b_hh, c_prev + row,
                        c_next + row, gates + gate_row, h_next + row)
    }
  }
  void gru_forward(int B, int H, int t, const std::int32_t* lengths, const T* recurrent,
                   const T* b_ih, const T* b_hh, const T* h_prev, T* gates, T* hh_new,
                   T* h_next) {
    for (int b = 0; b < B; ++b) {
      const std::size_t row = static_cast<std::size_t>(b) * H;
      if (t >= lengths[b]) {
        std::fill(h_next + row, h_next + row + H, T(0));
        continue;
      }
      const std::size_t gate_row = 3 * row;
      S2S_CELL_DISPATCH(gru_step_forward, H, recurrent + gate_row, b_ih, b_hh, h_prev + row,
                        hh_new + row, gates + gate_row, h_next + row)
    }
  }
  void rnn_forward(int B, int H, int t, const std::int32_t* lengths, const T* recurrent,
                   const T* b_ih, const T* b_hh, T* gates, T* h_next) {
    for (int b = 0; b < B; ++b) {
      const std::size_t row = static_cast<std::size_t>(b) * H;
      if (t >= lengths[b]) {
        std::fill(h_next + row, h_next + row + H, T(0));
        continue;
      }
      S2S_CELL_DISPATCH(rnn_step_forward, H, recurrent + row, b_ih, b_hh, gates + row,
                        h_next + row)
    }
  }

  // A padded row passes the state gradient unchanged: zero gate gradients make the recurrent
  // GEMM add nothing to it, and the parameters get nothing from it.
  void lstm_backward(int B, int H, int t, const std::int32_t* lengths, const T* c_prev,
                     const T* c_now, const T* doutput, T* gates, T* dh_state, T* dc_state) {
    for (int b = 0; b < B; ++b) {
      const std::size_t row = static_cast<std::size_t>(b) * H;
      T* dgate = gates + 4 * row;
      if (t >= lengths[b]) {
        std::fill(dgate, dgate + 4 * H, T(0));
        continue;
      }
      add_output_gradient(doutput, row, H, dh_state);
      S2S_CELL_DISPATCH(lstm_step_backward, H, c_prev + row, c_now + row, dc_state + row,
                        dh_state + row, dgate)
    }
  }
  void gru_backward(int B, int H, int t, const std::int32_t* lengths, const T* h_prev,
                    const T* hh_new, const T* doutput, T* gates, T* dgates_hh, T* dh_state) {
    for (int b = 0; b < B; ++b) {
      const std::size_t row = static_cast<std::size_t>(b) * H;
      T* dgate = gates + 3 * row;
      T* dgate_hh = dgates_hh + 3 * row;
      if (t >= lengths[b]) {
        std::fill(dgate, dgate + 3 * H, T(0));
        std::fill(dgate_hh, dgate_hh + 3 * H, T(0));
        continue;
      }
      add_output_gradient(doutput, row, H, dh_state);
      S2S_CELL_DISPATCH(gru_step_backward, H, h_prev + row, hh_new + row, dh_state + row, dgate,
                        dgate_hh)
    }
  }
  void rnn_backward(int B, int H, int t, const std::int32_t* lengths, const T* doutput,
                    T* gates, T* dh_state) {
    for (int b = 0; b < B; ++b) {
      const std::size_t row = static_cast<std::size_t>(b) * H;
      if (t >= lengths[b]) {
        std::fill(gates + row, gates + row + H, T(0));
        continue;
      }
      add_output_gradient(doutput, row, H, dh_state);
      S2S_CELL_DISPATCH(rnn_step_backward, H, dh_state + row, gates + row)
    }
  }

  void final_state(const T* state_seq, const std::int32_t* lengths, int B, int H, T* out) {
    const std::size_t BH = static_cast<std::size_t>(B) * H;
    for (int b = 0; b < B; ++b) {
      const T* slot = state_seq + static_cast<std::size_t>(lengths[b]) * BH + b * H;
      std::copy(slot, slot + H, out + static_cast<std::size_t>(b) * H);
    }
  }

  void bias_gradients(const T* dgates, const T* dgates_hh, int rows, int width, T* dbias_ih,
                      T* dbias_hh, bool accumulate) {
    sum_rows(dgates, rows, width, dbias_ih, !accumulate);
    if (dgates_hh == dgates && !accumulate) {
      std::copy(dbias_ih, dbias_ih + width, dbias_hh);  // the same sum: computed once
      return;
    }
    sum_rows(dgates_hh, rows, width, dbias_hh, !accumulate);
  }

  void sum_steps(T* data, int steps, std::size_t step_size) {
    for (int t = 1; t < steps; ++t) {
      const T* step = data + t * step_size;
      for (std::size_t i = 0; i < step_size; ++i) data[i] += step[i];
    }
  }

 private:
  static void add_output_gradient(const T* doutput, std::size_t row, int H, T* dh_state) {
    if (doutput == nullptr) return;
    const T* dout = doutput + row;
    T* dh = dh_state + row;
    for (int j = 0; j < H; ++j) dh[j] += dout[j];
  }
};
#undef S2S_CELL_DISPATCH

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
  // Float runs with denormals flushed (host/cpu/flush_denormals.h) whoever calls the op, not only
  // through Seq2Seq: without it the layer benchmark's LSTM/GRU at H128 spent 10-17% more time in
  // microcode assists. Double stays exact IEEE: it is the gradient checks' reference.
  std::optional<FlushDenormals> flush;
  if constexpr (std::is_same_v<T, float>) flush.emplace();
  CpuExecutor<T> executor;
  rnn_stack_forward(executor, dims, weights, input, lengths, h0, c0, y, hn, cn, workspace);
}

template <typename T>
void rnn_backward_cpu(const RnnDims& dims, const RnnLayerWeights<T>* weights, RnnInput<T> input,
                      const std::int32_t* lengths, const T* /*h0: cached by rnn_forward*/,
                      const T* /*c0: cached by rnn_forward*/, const T* dy, const T* dhn,
                      const T* dcn, T* dx, T* dh0, T* dc0, const RnnLayerGrads<T>* grads,
                      GradMode mode, T* workspace) {
  // Float runs with denormals flushed (host/cpu/flush_denormals.h) whoever calls the op, not only
  // through Seq2Seq: without it the layer benchmark's LSTM/GRU at H128 spent 10-17% more time in
  // microcode assists. Double stays exact IEEE: it is the gradient checks' reference.
  std::optional<FlushDenormals> flush;
  if constexpr (std::is_same_v<T, float>) flush.emplace();
  CpuExecutor<T> executor;
  rnn_stack_backward(executor, dims, weights, input, lengths, dy, dhn, dcn, dx, dh0, dc0, grads,
                     mode, workspace);
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
