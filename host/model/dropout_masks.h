// Dropout masks drawn on the host, so that a seed gives the same masks on every backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "s2s/random.h"

namespace s2s {

// The seed of one optimizer step's masks: the model's seed and the step mixed (SplitMix64's
// finaliser), so neighbouring steps and seeds draw unrelated masks.
inline std::uint64_t dropout_seed(std::uint64_t model_seed, std::int64_t step) {
  std::uint64_t z = model_seed + 0x9E3779B97F4A7C15ULL * (static_cast<std::uint64_t>(step) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// n mask values of inverted dropout with probability p: 0 with probability p, else 1/(1-p)
// (so the expected value of a masked activation is the activation itself).
template <typename T>
std::vector<T> dropout_mask_values(std::uint64_t seed, double p, std::size_t n) {
  Rng rng(seed);
  const T kept = static_cast<T>(1.0 / (1.0 - p));
  std::vector<T> mask(n);
  for (auto& m : mask) m = rng.uniform() < p ? T(0) : kept;
  return mask;
}

}  // namespace s2s
