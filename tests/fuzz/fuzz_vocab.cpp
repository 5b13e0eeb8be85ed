// libFuzzer target: bytes as vocabulary material: the lines as symbols (Vocabulary::from_symbols,
// what a checkpoint's source_vocab/target_vocab become), the whole input as text
// (Vocabulary::from_texts, utf8_characters) and the encode/decode round trip. s2s::Error is the
// expected refusal; a crash, a sanitizer report or a round trip that changes the text is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "s2s/error.h"
#include "s2s/vocab.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> symbols;
  for (std::size_t start = 0; start <= bytes.size();) {
    const auto end = bytes.find('\n', start);
    symbols.push_back(bytes.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  try {
    const s2s::Vocabulary v = s2s::Vocabulary::from_symbols(symbols);
    for (std::size_t i = 0; i < symbols.size(); ++i)
      if (v.symbol(s2s::Vocabulary::special_count + static_cast<std::int32_t>(i)) != symbols[i])
        __builtin_trap();
  } catch (const s2s::Error&) {
  }
  try {
    const s2s::Vocabulary v = s2s::Vocabulary::from_texts({bytes});
    const auto ids = v.encode(bytes);
    if (v.decode(ids) != bytes) __builtin_trap();
    (void)v.decode({-1, 0, 1, 2, v.size(), 1 << 30});
  } catch (const s2s::Error&) {
  }
  return 0;
}
