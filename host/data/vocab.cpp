// UTF-8 character splitting and the character Vocabulary.
#include "s2s/vocab.h"

#include <algorithm>
#include <set>

#include "s2s/error.h"

namespace s2s {

namespace {
// Decodes the code point starting at text[i] and its byte count; 0 bytes when invalid
// (bad lead byte, truncated or bad continuation, overlong form, surrogate, > U+10FFFF).
std::size_t utf8_length(const std::string& text, std::size_t i, char32_t& code) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t n;
  char32_t min;
  if (lead < 0x80) { code = lead; return 1; }
  if ((lead & 0xE0) == 0xC0) { n = 2; code = lead & 0x1F; min = 0x80; }
  else if ((lead & 0xF0) == 0xE0) { n = 3; code = lead & 0x0F; min = 0x800; }
  else if ((lead & 0xF8) == 0xF0) { n = 4; code = lead & 0x07; min = 0x10000; }
  else return 0;
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return n;
}

char32_t first_code_point(const std::string& symbol) {
  char32_t code = 0;
  utf8_length(symbol, 0, code);
  return code;
}
}  // namespace

std::vector<std::string> utf8_characters(const std::string& text) {
  std::vector<std::string> chars;
  for (std::size_t i = 0; i < text.size();) {
    char32_t code;
    const std::size_t n = utf8_length(text, i, code);
    if (n == 0) throw Error("invalid UTF-8 at byte " + std::to_string(i + 1));
    chars.push_back(text.substr(i, n));
    i += n;
  }
  return chars;
}

Vocabulary Vocabulary::from_texts(const std::vector<std::string>& texts) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    try {
      for (auto& c : utf8_characters(texts[i])) seen.insert(c);
    } catch (const Error& e) {
      throw Error("text " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  std::vector<std::string> symbols(seen.begin(), seen.end());
  std::sort(symbols.begin(), symbols.end(), [](const std::string& a, const std::string& b) {
    return first_code_point(a) < first_code_point(b);
  });
  return from_symbols(symbols);
}

Vocabulary Vocabulary::from_symbols(const std::vector<std::string>& symbols) {
  Vocabulary v;
  for (const auto& s : symbols) {
    if (utf8_characters(s).size() != 1)
      throw Error("vocabulary symbol '" + s + "' is not exactly one character");
    if (v.ids_.count(s)) throw Error("vocabulary symbol '" + s + "' appears twice");
    v.ids_[s] = static_cast<std::int32_t>(special_count + v.symbols_.size());
    v.symbols_.push_back(s);
  }
  return v;
}

std::vector<std::int32_t> Vocabulary::encode(const std::string& text) const {
  std::vector<std::int32_t> ids;
  const auto chars = utf8_characters(text);
  for (std::size_t i = 0; i < chars.size(); ++i) {
    auto it = ids_.find(chars[i]);
    if (it == ids_.end())
      throw Error("character '" + chars[i] + "' at position " + std::to_string(i + 1) +
                  " is not in the model's vocabulary");
    ids.push_back(it->second);
  }
  return ids;
}

std::string Vocabulary::decode(const std::vector<std::int32_t>& ids) const {
  std::string text;
  for (std::int32_t id : ids) {
    if (id == end_id) break;
    if (id < special_count || id >= size()) continue;
    text += symbols_[static_cast<std::size_t>(id - special_count)];
  }
  return text;
}

std::string Vocabulary::symbol(std::int32_t id) const {
  if (id == pad_id) return "<pad>";
  if (id == start_id) return "<s>";
  if (id == end_id) return "</s>";
  if (id < 0 || id >= size()) return "<" + std::to_string(id) + "?>";
  return symbols_[static_cast<std::size_t>(id - special_count)];
}

}  // namespace s2s
