// Character vocabularies: UTF-8 text <-> token ids, with pad, start and end tokens.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace s2s {

// Ids 0, 1, 2 are the special tokens; the symbols (one Unicode character each, kept as its
// UTF-8 bytes) follow in code-point order, so the same texts always give the same ids.
class Vocabulary {
 public:
  static constexpr std::int32_t pad_id = 0;
  static constexpr std::int32_t start_id = 1;
  static constexpr std::int32_t end_id = 2;
  static constexpr int special_count = 3;

  Vocabulary() = default;
  // Every character of the texts, once. Throws Error on invalid UTF-8 (naming the text's index
  // and the byte offset).
  static Vocabulary from_texts(const std::vector<std::string>& texts);
  // The symbols in id order (ids special_count, special_count+1, ...).
  static Vocabulary from_symbols(const std::vector<std::string>& symbols);

  int size() const { return special_count + static_cast<int>(symbols_.size()); }
  const std::vector<std::string>& symbols() const { return symbols_; }
  bool contains(const std::string& symbol) const { return ids_.count(symbol) > 0; }

  // Token ids of text's characters (no start or end token). Throws Error naming the first
  // character that is not in the vocabulary and its position (1-based, in characters).
  std::vector<std::int32_t> encode(const std::string& text) const;
  // Text of ids up to the first end token; pad and start tokens are skipped.
  std::string decode(const std::vector<std::int32_t>& ids) const;
  // The printable name of one id ("<pad>", "<s>", "</s>" for the specials).
  std::string symbol(std::int32_t id) const;

 private:
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, std::int32_t> ids_;
};

// Splits UTF-8 text into characters (each as its bytes). Throws Error at the first invalid
// sequence, naming its byte offset.
std::vector<std::string> utf8_characters(const std::string& text);

}  // namespace s2s
