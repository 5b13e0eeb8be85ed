// The CPU reference of beam search's expansion step (Ops<T>::beam_candidates): for each source,
// the best `count` of its beams x vocabulary continuations, ranked on the host.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "cpu/ops_cpu.h"

namespace s2s::cpu {

// Descending score, ties to the lower id (the contract in backend.h). A NaN score (a diverged
// model) ranks below every number, so it is chosen only when nothing else is left; NaNs among
// themselves go by id, which keeps the order a strict weak ordering.
template <typename T>
void beam_candidates_cpu(const T* log_probs, const T* beam_scores, int batch, int beams,
                         int vocab, int count, T* scores_out, std::int32_t* ids_out) {
  const std::size_t per_source = static_cast<std::size_t>(beams) * vocab;
  std::vector<T> score(per_source);
  std::vector<std::int32_t> order(per_source);
  const auto before = [&](std::int32_t a, std::int32_t b) {
    const bool nan_a = std::isnan(score[a]), nan_b = std::isnan(score[b]);
    if (nan_a != nan_b) return nan_b;
    if (!nan_a && score[a] != score[b]) return score[a] > score[b];
    return a < b;
  };
  for (int b = 0; b < batch; ++b) {
    for (int k = 0; k < beams; ++k) {
      const std::size_t row = static_cast<std::size_t>(b) * beams + k;
      for (int v = 0; v < vocab; ++v)
        score[static_cast<std::size_t>(k) * vocab + v] =
            beam_scores[row] + log_probs[row * vocab + v];
    }
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + count, order.end(), before);
    for (int i = 0; i < count; ++i) {
      scores_out[static_cast<std::size_t>(b) * count + i] = score[order[i]];
      ids_out[static_cast<std::size_t>(b) * count + i] = order[i];
    }
  }
}

template void beam_candidates_cpu<float>(const float*, const float*, int, int, int, int, float*,
                                         std::int32_t*);
template void beam_candidates_cpu<double>(const double*, const double*, int, int, int, int,
                                          double*, std::int32_t*);

}  // namespace s2s::cpu
