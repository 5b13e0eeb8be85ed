// CPU reference of the attention ops (include/s2s/backend.h has the contract): dot-product
// scores and the context as one GEMM pair per sequence (the strided-batched form the CUDA
// backend uses), Bahdanau's additive score and the masked softmax as loops. The additive loops
// are tanh-bound (Tq * Ts * A of them per sequence, forward and again backward): each (q, s)
// pair's tanh row is computed into scratch first, a loop the compiler vectorises with float's
// polynomial tanh (cpu/activations.h; double keeps libm), and only then reduced.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cpu/activations.h"
#include "cpu/blas.h"
#include "cpu/ops_cpu.h"

namespace s2s::cpu {
namespace {

// Sequence b's rows of a time-major [T, B, D] array: row t starts at (t * B + b) * D, so as a
// matrix it starts at b * D with row stride B * D.
template <typename U>
U* sequence_rows(U* x, int b, int width) {
  return x + static_cast<std::size_t>(b) * width;
}

// Sequence b's [Tq, Ts] block of a batch-major [B, Tq, Ts] array.
template <typename U>
U* sequence_block(U* x, int b, int query_len, int source_len) {
  return x + static_cast<std::size_t>(b) * query_len * source_len;
}

template <typename T>
T gemm_beta(GradMode mode) {
  return mode == GradMode::accumulate ? T(1) : T(0);
}

}  // namespace

template <typename T>
void attention_scores_cpu(const T* query, const T* keys, int query_len, int source_len,
                          int batch, int width, T* scores) {
  const int stride = batch * width;
  for (int b = 0; b < batch; ++b) {
    // scores_b [Tq, Ts] = Q_b [Tq, D] K_b^T [D, Ts].
    gemm<T>(false, true, query_len, source_len, width, T(1), sequence_rows(query, b, width),
            stride, sequence_rows(keys, b, width), stride, T(0),
            sequence_block(scores, b, query_len, source_len), source_len);
  }
}

template <typename T>
void attention_scores_backward_cpu(const T* query, const T* keys, const T* dscores,
                                   int query_len, int source_len, int batch, int width,
                                   T* dquery, T* dkeys, GradMode mode) {
  const int stride = batch * width;
  const T beta = gemm_beta<T>(mode);
  for (int b = 0; b < batch; ++b) {
    const T* ds = sequence_block(dscores, b, query_len, source_len);
    if (dquery != nullptr) {
      // dQ_b [Tq, D] = dS_b [Tq, Ts] K_b [Ts, D].
      gemm<T>(false, false, query_len, width, source_len, T(1), ds, source_len,
              sequence_rows(keys, b, width), stride, beta, sequence_rows(dquery, b, width),
              stride);
    }
    if (dkeys != nullptr) {
      // dK_b [Ts, D] = dS_b^T [Ts, Tq] Q_b [Tq, D].
      gemm<T>(true, false, source_len, width, query_len, T(1), ds, source_len,
              sequence_rows(query, b, width), stride, beta, sequence_rows(dkeys, b, width),
              stride);
    }
  }
}

// t[a] = tanh(q[a] + k[a]) for a < width.
template <typename T>
void tanh_of_sum(const T* q, const T* k, int width, T* t) {
  for (int a = 0; a < width; ++a) t[a] = tanh_activation<T>(q[a] + k[a]);
}

template <typename T>
void additive_scores_cpu(const T* query, const T* keys, const T* v, int query_len,
                         int source_len, int batch, int width, T* scores) {
  std::vector<T> t(static_cast<std::size_t>(width));
  for (int b = 0; b < batch; ++b)
    for (int q = 0; q < query_len; ++q) {
      const T* qrow = query + (static_cast<std::size_t>(q) * batch + b) * width;
      T* out = scores + (static_cast<std::size_t>(b) * query_len + q) * source_len;
      for (int s = 0; s < source_len; ++s) {
        tanh_of_sum(qrow, keys + (static_cast<std::size_t>(s) * batch + b) * width, width,
                    t.data());
        T sum = 0;
        for (int a = 0; a < width; ++a) sum += v[a] * t[a];
        out[s] = sum;
      }
    }
}

template <typename T>
void additive_scores_backward_cpu(const T* query, const T* keys, const T* v, const T* dscores,
                                  int query_len, int source_len, int batch, int width,
                                  T* dquery, T* dkeys, T* dv, GradMode mode) {
  // Fresh gradients are summed in scratch arrays and then written or added once, so that
  // `accumulate` is exactly old + fresh and `overwrite` never reads the old values.
  const std::size_t query_size = static_cast<std::size_t>(query_len) * batch * width;
  const std::size_t key_size = static_cast<std::size_t>(source_len) * batch * width;
  std::vector<T> fresh_query(dquery != nullptr ? query_size : 0, T(0));
  std::vector<T> fresh_keys(dkeys != nullptr ? key_size : 0, T(0));
  std::vector<T> fresh_v(static_cast<std::size_t>(width), T(0));
  std::vector<T> t(static_cast<std::size_t>(width)), pre(static_cast<std::size_t>(width));
  // Unwanted outputs are summed into scratch rows that are thrown away, so the loops below
  // have no branches.
  std::vector<T> ignored(static_cast<std::size_t>(width));
  for (int b = 0; b < batch; ++b)
    for (int q = 0; q < query_len; ++q) {
      const std::size_t qoff = (static_cast<std::size_t>(q) * batch + b) * width;
      const T* ds = dscores + (static_cast<std::size_t>(b) * query_len + q) * source_len;
      for (int s = 0; s < source_len; ++s) {
        const T g = ds[s];
        if (g == T(0)) continue;  // masked positions: no work (and no gradient)
        const std::size_t koff = (static_cast<std::size_t>(s) * batch + b) * width;
        tanh_of_sum(query + qoff, keys + koff, width, t.data());
        T* fq = dquery != nullptr ? fresh_query.data() + qoff : ignored.data();
        T* fk = dkeys != nullptr ? fresh_keys.data() + koff : ignored.data();
        for (int a = 0; a < width; ++a) {
          pre[a] = g * v[a] * (T(1) - t[a] * t[a]);
          fresh_v[a] += g * t[a];
        }
        for (int a = 0; a < width; ++a) fq[a] += pre[a];
        for (int a = 0; a < width; ++a) fk[a] += pre[a];
      }
    }
  auto store = [mode](const std::vector<T>& fresh, T* out) {
    if (out == nullptr) return;
    for (std::size_t i = 0; i < fresh.size(); ++i)
      out[i] = mode == GradMode::accumulate ? out[i] + fresh[i] : fresh[i];
  };
  store(fresh_query, dquery);
  store(fresh_keys, dkeys);
  if (dv != nullptr) store(fresh_v, dv);
}

template <typename T>
void masked_softmax_cpu(const T* scores, const std::int32_t* source_lengths, int query_len,
                        int source_len, int batch, T* weights) {
  for (int b = 0; b < batch; ++b) {
    const int n = std::min(static_cast<int>(source_lengths[b]), source_len);
    for (int q = 0; q < query_len; ++q) {
      const std::size_t row = (static_cast<std::size_t>(b) * query_len + q) * source_len;
      const T* x = scores + row;
      T* w = weights + row;
      // Padded positions are never read: their scores may be anything, NaN included.
      T top = x[0];
      for (int s = 1; s < n; ++s) top = std::max(top, x[s]);
      T sum = 0;
      for (int s = 0; s < n; ++s) {
        w[s] = std::exp(x[s] - top);
        sum += w[s];
      }
      for (int s = 0; s < n; ++s) w[s] /= sum;
      std::fill(w + n, w + source_len, T(0));
    }
  }
}

template <typename T>
void masked_softmax_backward_cpu(const T* weights, const T* dweights,
                                 const std::int32_t* source_lengths, int query_len,
                                 int source_len, int batch, T* dscores) {
  for (int b = 0; b < batch; ++b) {
    const int n = std::min(static_cast<int>(source_lengths[b]), source_len);
    for (int q = 0; q < query_len; ++q) {
      const std::size_t row = (static_cast<std::size_t>(b) * query_len + q) * source_len;
      const T* w = weights + row;
      const T* dw = dweights + row;
      T* ds = dscores + row;
      T dot = 0;
      for (int s = 0; s < n; ++s) dot += w[s] * dw[s];
      for (int s = 0; s < n; ++s) ds[s] = w[s] * (dw[s] - dot);
      std::fill(ds + n, ds + source_len, T(0));
    }
  }
}

template <typename T>
void attention_context_cpu(const T* weights, const T* values, int query_len, int source_len,
                           int batch, int width, T* context) {
  const int stride = batch * width;
  for (int b = 0; b < batch; ++b) {
    // C_b [Tq, D] = W_b [Tq, Ts] V_b [Ts, D].
    gemm<T>(false, false, query_len, width, source_len, T(1),
            sequence_block(weights, b, query_len, source_len), source_len,
            sequence_rows(values, b, width), stride, T(0), sequence_rows(context, b, width),
            stride);
  }
}

template <typename T>
void attention_context_backward_cpu(const T* weights, const T* values, const T* dcontext,
                                    int query_len, int source_len, int batch, int width,
                                    T* dweights, T* dvalues, GradMode mode) {
  const int stride = batch * width;
  const T beta = gemm_beta<T>(mode);
  for (int b = 0; b < batch; ++b) {
    const T* dc = sequence_rows(dcontext, b, width);
    if (dweights != nullptr) {
      // dW_b [Tq, Ts] = dC_b [Tq, D] V_b^T [D, Ts].
      gemm<T>(false, true, query_len, source_len, width, T(1), dc, stride,
              sequence_rows(values, b, width), stride, T(0),
              sequence_block(dweights, b, query_len, source_len), source_len);
    }
    if (dvalues != nullptr) {
      // dV_b [Ts, D] = W_b^T [Ts, Tq] dC_b [Tq, D].
      gemm<T>(true, false, source_len, width, query_len, T(1),
              sequence_block(weights, b, query_len, source_len), source_len, dc, stride, beta,
              sequence_rows(dvalues, b, width), stride);
    }
  }
}

#define S2S_INSTANTIATE_ATTENTION(T)                                                           \
  template void attention_scores_cpu<T>(const T*, const T*, int, int, int, int, T*);          \
  template void attention_scores_backward_cpu<T>(const T*, const T*, const T*, int, int, int, \
                                                 int, T*, T*, GradMode);                      \
  template void additive_scores_cpu<T>(const T*, const T*, const T*, int, int, int, int, T*); \
  template void additive_scores_backward_cpu<T>(const T*, const T*, const T*, const T*, int,  \
                                                int, int, int, T*, T*, T*, GradMode);         \
  template void masked_softmax_cpu<T>(const T*, const std::int32_t*, int, int, int, T*);      \
  template void masked_softmax_backward_cpu<T>(const T*, const T*, const std::int32_t*, int,  \
                                               int, int, T*);                                 \
  template void attention_context_cpu<T>(const T*, const T*, int, int, int, int, T*);         \
  template void attention_context_backward_cpu<T>(const T*, const T*, const T*, int, int,     \
                                                  int, int, T*, T*, GradMode);
S2S_INSTANTIATE_ATTENTION(float)
S2S_INSTANTIATE_ATTENTION(double)
#undef S2S_INSTANTIATE_ATTENTION

}  // namespace s2s::cpu
