// libFuzzer target: bytes as a real-valued pair file ("#s2s-numbers modulus=M" then number
// lines) through s2s::parse_number_pairs. s2s::Error is the expected refusal; a crash, a
// sanitizer report or accepted data that breaks its own promises is a bug.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "s2s/error.h"
#include "s2s/limits.h"
#include "s2s/sequences.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const s2s::SequenceData pairs = s2s::parse_number_pairs(in, "fuzz-input");
    pairs.validate();  // every target id inside the vocabulary, no empty sequence
    const int modulus = pairs.target_vocab.size() - s2s::Vocabulary::special_count;
    if (modulus < 2 || modulus > s2s::limits::kMaxNumberModulus || pairs.size() == 0)
      __builtin_trap();
    for (const auto& values : pairs.source_values)
      for (double v : values)
        if (!(v >= 0.0 && v < 1.0)) __builtin_trap();
  } catch (const s2s::Error&) {
  }
  return 0;
}
