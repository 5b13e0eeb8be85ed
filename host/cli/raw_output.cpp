// predict --raw's text of a model's output ids (raw_output.h).
#include "cli/raw_output.h"

#include <fmt/format.h>

#include "s2s/sequences.h"

namespace s2s::cli {

namespace {
std::string hex_code_point(char32_t code) {
  return fmt::format("<U+{:04X}>", static_cast<std::uint32_t>(code));
}
char32_t code_point_of(const std::string& utf8) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(utf8[k]); };
  if (utf8.size() == 1) return byte(0);
  char32_t code = byte(0) & (utf8.size() == 2 ? 0x1F : utf8.size() == 3 ? 0x0F : 0x07);
  for (std::size_t k = 1; k < utf8.size(); ++k) code = (code << 6) | (byte(k) & 0x3F);
  return code;
}
bool printable(char32_t code) {
  if (code < 0x20 || code == 0x7F || (code >= 0x80 && code < 0xA0)) return false;  // controls
  if (code >= 0xE000 && code <= 0xF8FF) return false;    // private use (BMP)
  if (code >= 0xF0000) return false;                      // private use planes 15 and 16
  if (code == 0xFEFF || (code >= 0x200B && code <= 0x200F) || (code >= 0x2028 && code <= 0x202E))
    return false;  // invisible: zero-width, direction marks, line and paragraph separators
  return true;
}
}  // namespace

std::string raw_text(const Vocabulary& vocab, const std::vector<std::int32_t>& ids, bool numbers) {
  std::string text;
  bool first = true;
  for (const std::int32_t id : ids) {
    if (id == Vocabulary::end_id) break;
    const std::string separator = numbers && !first ? " " : "";
    first = false;
    if (id == Vocabulary::pad_id) { text += separator + "<pad>"; continue; }
    if (id == Vocabulary::start_id) { text += separator + "<s>"; continue; }
    if (id < 0 || id >= vocab.size()) { text += separator + "<?" + std::to_string(id) + ">"; continue; }
    if (numbers) { text += separator + std::to_string(progression_number(id)); continue; }
    const std::string symbol = vocab.symbol(id);
    const char32_t code = code_point_of(symbol);
    if (symbol == "<") text += "\\<";
    else if (symbol == "\\") text += "\\\\";
    else if (!printable(code)) text += hex_code_point(code);
    else text += symbol;
  }
  return text;
}


}  // namespace s2s::cli
