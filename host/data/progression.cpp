// Seed 002's progression task: x -> multiplier * x mod modulus, real-valued inputs, class targets.
#include <string>
#include <utility>

#include "s2s/error.h"
#include "s2s/limits.h"
#include "s2s/random.h"
#include "s2s/sequences.h"

namespace s2s {

namespace {
void require_range(const char* name, long long value, long long low, long long high) {
  if (value < low || value > high)
    throw Error(std::string("task progression: ") + name + " is " + std::to_string(value) +
                " (allowed: " + std::to_string(low) + " to " + std::to_string(high) + ")");
}

// UTF-8 bytes of a code point in the Basic Multilingual Plane (all that is needed here).
std::string utf8_of(char32_t code) {
  std::string s;
  if (code < 0x80) {
    s += static_cast<char>(code);
  } else if (code < 0x800) {
    s += static_cast<char>(0xC0 | (code >> 6));
    s += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (code >> 12));
    s += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (code & 0x3F));
  }
  return s;
}
}  // namespace

// The private-use area U+E000..U+F8FF has 6400 code points: the most classes there can be.
constexpr int kMaxProgressionModulus = limits::kMaxNumberModulus;

Vocabulary progression_vocab(int modulus) {
  require_range("modulus", modulus, 2, kMaxProgressionModulus);
  std::vector<std::string> symbols;
  for (int n = 0; n < modulus; ++n) symbols.push_back(utf8_of(0xE000 + static_cast<char32_t>(n)));
  return Vocabulary::from_symbols(symbols);
}

int progression_number(std::int32_t id) {
  return id < Vocabulary::special_count ? -1 : id - Vocabulary::special_count;
}

SequenceData generate_progression(const ProgressionOptions& options) {
  const ProgressionOptions& o = options;
  require_range("modulus", o.modulus, 2, kMaxProgressionModulus);
  require_range("multiplier", o.multiplier, 0, 1000000);
  require_range("length", o.length, 1, 100000);
  require_range("size", o.size, 0, 10000000);
  const int size = o.size == 0 ? o.modulus : o.size;

  // A seeded permutation of the starts (Fisher-Yates over the portable Rng).
  std::vector<int> starts(static_cast<std::size_t>(o.modulus));
  for (int i = 0; i < o.modulus; ++i) starts[static_cast<std::size_t>(i)] = i;
  Rng rng(o.seed);
  for (std::size_t i = starts.size(); i > 1; --i) std::swap(starts[i - 1], starts[rng.below(i)]);

  SequenceData data;
  data.target_vocab = progression_vocab(o.modulus);
  data.source_features = 1;
  for (int i = 0; i < size; ++i) {
    long long x = starts[static_cast<std::size_t>(i % o.modulus)];
    std::vector<double> source;
    std::vector<std::int32_t> target;
    for (int k = 0; k < o.length; ++k) {
      source.push_back(static_cast<double>(x) / o.modulus);
      x = (x * o.multiplier) % o.modulus;
      target.push_back(Vocabulary::special_count + static_cast<std::int32_t>(x));
    }
    data.source_values.push_back(std::move(source));
    data.targets.push_back(std::move(target));
  }
  return data;
}

}  // namespace s2s
