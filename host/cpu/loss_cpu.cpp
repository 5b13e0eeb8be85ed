// CPU reference of the output losses over a padded [T, B] batch (softmax cross-entropy, mean
// squared error) and of the row-wise argmax used by greedy decoding.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "cpu/ops_cpu.h"

namespace s2s::cpu {
namespace {

// Row t*B+b is real when t < lengths[b]; lengths outside [0, T] behave as if clamped.
inline bool is_real_row(const std::int32_t* lengths, int t, int b) { return t < lengths[b]; }

std::size_t count_real_rows(const std::int32_t* lengths, int seq_len, int batch) {
  std::size_t count = 0;
  for (int b = 0; b < batch; ++b) {
    const int length = lengths[b] < 0 ? 0 : (lengths[b] > seq_len ? seq_len : lengths[b]);
    count += static_cast<std::size_t>(length);
  }
  return count;
}

}  // namespace

// Sums run in double whatever T is: a mean over thousands of tokens in float loses digits the
// loss curves and the gradient checks need.
template <typename T>
void softmax_cross_entropy_cpu(const T* logits, const std::int32_t* targets,
                               const std::int32_t* lengths, int seq_len, int batch, int vocab,
                               T* loss, T* dlogits) {
  const std::size_t width = static_cast<std::size_t>(vocab);
  const std::size_t real_rows = count_real_rows(lengths, seq_len, batch);
  // With no real row the mean is empty: loss 0 and no gradient, rather than 0/0.
  const double inv_count = real_rows > 0 ? 1.0 / static_cast<double>(real_rows) : 0.0;
  double loss_sum = 0.0;
  for (int t = 0; t < seq_len; ++t) {
    for (int b = 0; b < batch; ++b) {
      const std::size_t row_index = static_cast<std::size_t>(t) * batch + b;
      const T* row = logits + row_index * width;
      T* drow = dlogits != nullptr ? dlogits + row_index * width : nullptr;
      if (!is_real_row(lengths, t, b)) {
        // Padded rows are never read (their logits may be garbage), only zeroed.
        if (drow != nullptr)
          for (std::size_t v = 0; v < width; ++v) drow[v] = T(0);
        continue;
      }
      // log-softmax shifted by the row maximum, so exp never overflows.
      double row_max = static_cast<double>(row[0]);
      for (std::size_t v = 1; v < width; ++v) {
        const double value = static_cast<double>(row[v]);
        if (value > row_max) row_max = value;
      }
      double sum_exp = 0.0;
      for (std::size_t v = 0; v < width; ++v)
        sum_exp += std::exp(static_cast<double>(row[v]) - row_max);
      const double log_sum_exp = row_max + std::log(sum_exp);
      const std::int32_t target = targets[row_index];
      loss_sum += log_sum_exp - static_cast<double>(row[target]);
      if (drow != nullptr) {
        // d(mean loss)/d(logit v) = (softmax_v - [v == target]) / real_rows.
        for (std::size_t v = 0; v < width; ++v) {
          const double probability = std::exp(static_cast<double>(row[v]) - log_sum_exp);
          const double indicator = static_cast<std::int32_t>(v) == target ? 1.0 : 0.0;
          drow[v] = static_cast<T>((probability - indicator) * inv_count);
        }
      }
    }
  }
  loss[0] = static_cast<T>(loss_sum * inv_count);
}

template <typename T>
void mse_cpu(const T* prediction, const T* target, const std::int32_t* lengths, int seq_len,
             int batch, int features, T* loss, T* dprediction) {
  const std::size_t width = static_cast<std::size_t>(features);
  const std::size_t real_values = count_real_rows(lengths, seq_len, batch) * width;
  // Mean over real values only; none real gives loss 0 and zero gradients, as for cross-entropy.
  const double inv_count = real_values > 0 ? 1.0 / static_cast<double>(real_values) : 0.0;
  double loss_sum = 0.0;
  for (int t = 0; t < seq_len; ++t) {
    for (int b = 0; b < batch; ++b) {
      const std::size_t offset = (static_cast<std::size_t>(t) * batch + b) * width;
      const bool real = is_real_row(lengths, t, b);
      for (std::size_t f = 0; f < width; ++f) {
        double diff = 0.0;
        if (real) {
          diff = static_cast<double>(prediction[offset + f]) -
                 static_cast<double>(target[offset + f]);
          loss_sum += diff * diff;
        }
        if (dprediction != nullptr)
          dprediction[offset + f] = static_cast<T>(2.0 * diff * inv_count);
      }
    }
  }
  loss[0] = static_cast<T>(loss_sum * inv_count);
}

// First maximum on ties, like torch.argmax and numpy.argmax. A NaN counts as the maximum (again
// as in torch), so a diverged model shows up in decoded output instead of hiding behind index 0.
template <typename T>
void argmax_cpu(const T* logits, int n, int vocab, std::int32_t* out) {
  for (int i = 0; i < n; ++i) {
    const T* row = logits + static_cast<std::size_t>(i) * vocab;
    int best = 0;
    for (int v = 1; v < vocab && !std::isnan(row[best]); ++v) {
      if (std::isnan(row[v]) || row[v] > row[best]) best = v;
    }
    out[i] = best;
  }
}

// Max-shifted, the sum in double: exact for large logits; a NaN in a row makes that row NaN.
template <typename T>
void log_softmax_cpu(const T* logits, int n, int vocab, T* out) {
  for (int i = 0; i < n; ++i) {
    const T* row = logits + static_cast<std::size_t>(i) * vocab;
    T* dst = out + static_cast<std::size_t>(i) * vocab;
    double top = -std::numeric_limits<double>::infinity();
    for (int v = 0; v < vocab; ++v) top = std::max(top, static_cast<double>(row[v]));
    double sum = 0;
    for (int v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - top);
    const double log_sum = top + std::log(sum);
    for (int v = 0; v < vocab; ++v) dst[v] = static_cast<T>(static_cast<double>(row[v]) - log_sum);
  }
}

template void softmax_cross_entropy_cpu<float>(const float*, const std::int32_t*,
                                               const std::int32_t*, int, int, int, float*, float*);
template void softmax_cross_entropy_cpu<double>(const double*, const std::int32_t*,
                                                const std::int32_t*, int, int, int, double*,
                                                double*);
template void mse_cpu<float>(const float*, const float*, const std::int32_t*, int, int, int,
                             float*, float*);
template void mse_cpu<double>(const double*, const double*, const std::int32_t*, int, int, int,
                              double*, double*);
template void argmax_cpu<float>(const float*, int, int, std::int32_t*);
template void argmax_cpu<double>(const double*, int, int, std::int32_t*);
template void log_softmax_cpu<float>(const float*, int, int, float*);
template void log_softmax_cpu<double>(const double*, int, int, double*);

}  // namespace s2s::cpu
