// libFuzzer target: bytes as a pair file ("input<TAB>target" lines) through s2s::parse_pairs.
// s2s::Error is the expected refusal; anything else (a crash, a sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "s2s/error.h"
#include "s2s/tasks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const auto pairs = s2s::parse_pairs(in, "fuzz-input");
    // Every accepted pair has a non-empty input and target without tabs or newlines.
    for (const auto& p : pairs)
      if (p.input.empty() || p.target.empty() || p.input.find('\t') != std::string::npos ||
          p.target.find('\t') != std::string::npos || p.input.find('\n') != std::string::npos)
        __builtin_trap();
  } catch (const s2s::Error&) {
  }
  return 0;
}
