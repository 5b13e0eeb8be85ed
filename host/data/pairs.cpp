// Users' pair files: UTF-8 lines "input<TAB>target", checked line by line; and real-valued pair
// files (a "#s2s-numbers modulus=M" first line, then whole numbers), what `s2s gen --task
// progression` writes.
#include <istream>
#include <sstream>
#include <string>

#include "data/lines.h"
#include "io/regular_file.h"
#include "s2s/error.h"
#include "s2s/limits.h"
#include "s2s/sequences.h"
#include "s2s/tasks.h"
#include "s2s/vocab.h"

namespace s2s {

bool read_bounded_line(std::istream& in, std::string& line, std::uint64_t max_bytes,
                       const std::string& where) {
  line.clear();
  std::streambuf* buffer = in.rdbuf();
  if (!buffer || !in.good()) return false;
  bool any = false;
  for (;;) {
    const auto c = buffer->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return any;
    }
    any = true;
    if (c == '\n') return true;
    if (line.size() >= max_bytes)
      throw Error(where + "the line is longer than " + std::to_string(max_bytes) +
                  " bytes (allowed: at most " + std::to_string(max_bytes) + " bytes per line)");
    line.push_back(static_cast<char>(c));
  }
}

namespace {
constexpr char kNumbersHeader[] = "#s2s-numbers modulus=";

std::string without_cr(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The modulus declared by a "#s2s-numbers modulus=M" line; 0 when the line is not one.
// Throws (naming where) for a declaration with a bad modulus.
int declared_modulus(const std::string& line, const std::string& where) {
  const std::string header = kNumbersHeader;
  if (line.compare(0, header.size(), header) != 0) return 0;
  const std::string digits = line.substr(header.size());
  long long modulus = -1;
  if (!digits.empty() && digits.size() <= 6 &&
      digits.find_first_not_of("0123456789") == std::string::npos)
    modulus = std::stoll(digits);
  if (modulus < 2 || modulus > limits::kMaxNumberModulus)
    throw Error(where + "'" + line + "' declares a modulus of '" + digits +
                "' (allowed: a whole number from 2 to " +
                std::to_string(limits::kMaxNumberModulus) + ")");
  return static_cast<int>(modulus);
}

// Whole numbers 0..modulus-1 separated by spaces; throws naming where, the side and position.
std::vector<int> numbers_of(const std::string& text, int modulus, const std::string& where,
                            const char* side) {
  std::vector<int> out;
  std::istringstream words(text);
  std::string word;
  while (words >> word) {
    long long n = -1;
    if (word.size() <= 6 && word.find_first_not_of("0123456789") == std::string::npos)
      n = std::stoll(word);
    if (n < 0 || n >= modulus)
      throw Error(where + "the " + side + "'s number " + std::to_string(out.size() + 1) +
                  " is '" + (word.size() > 20 ? word.substr(0, 20) + "..." : word) +
                  "' (allowed: whole numbers from 0 to " + std::to_string(modulus - 1) +
                  " separated by spaces)");
    if (out.size() >= static_cast<std::size_t>(limits::kMaxSequenceLength))
      throw Error(where + "the " + side + " has more than " +
                  std::to_string(limits::kMaxSequenceLength) + " numbers (allowed: at most " +
                  std::to_string(limits::kMaxSequenceLength) + ")");
    out.push_back(static_cast<int>(n));
  }
  if (out.empty()) throw Error(where + "the " + side + " has no numbers");
  return out;
}
}  // namespace

std::string number_pairs_header(int modulus) { return kNumbersHeader + std::to_string(modulus); }

bool holds_number_pairs(const std::string& first_line) {
  return first_line.compare(0, sizeof kNumbersHeader - 1, kNumbersHeader) == 0;
}

std::vector<TextPair> parse_pairs(std::istream& in, const std::string& source_name) {
  std::vector<TextPair> pairs;
  std::string line;
  long long number = 0;
  while (true) {
    const std::string where = source_name + ":" + std::to_string(number + 1) + ": ";
    if (!read_bounded_line(in, line, limits::kMaxLineBytes, where)) break;
    ++number;
    line = without_cr(std::move(line));
    if (line.empty()) continue;
    if (number == 1 && holds_number_pairs(line))
      throw Error(where + "'" + line.substr(0, 40) +
                  "' declares real-valued pairs (whole numbers, as `s2s gen --task progression` "
                  "writes): they need a model with real-valued inputs, not text");
    try {
      utf8_characters(line);
    } catch (const Error& e) {
      throw Error(where + e.what() + " of the line (the file must be UTF-8 text)");
    }
    const auto tab = line.find('\t');
    if (tab == std::string::npos)
      throw Error(where + "no tab: each line must be input<TAB>target");
    const auto end = line.find('\t', tab + 1);  // further columns are ignored
    TextPair pair{line.substr(0, tab), line.substr(tab + 1, end == std::string::npos
                                                                ? std::string::npos
                                                                : end - tab - 1)};
    if (pair.input.empty()) throw Error(where + "the input (before the tab) is empty");
    if (pair.target.empty()) throw Error(where + "the target (after the tab) is empty");
    pairs.push_back(std::move(pair));
  }
  if (in.bad()) throw Error(source_name + ": read error");
  if (pairs.empty()) throw Error(source_name + ": no input<TAB>target pairs (the file is empty)");
  return pairs;
}

std::vector<TextPair> read_pairs(const std::string& path) {
  std::istringstream in(read_regular_file(path, limits::kMaxPairFileBytes, "pair file"));
  return parse_pairs(in, path);
}

SequenceData parse_number_pairs(std::istream& in, const std::string& source_name) {
  SequenceData data;
  std::string line;
  long long number = 0;
  int modulus = 0;
  while (true) {
    const std::string where = source_name + ":" + std::to_string(number + 1) + ": ";
    if (!read_bounded_line(in, line, limits::kMaxLineBytes, where)) break;
    ++number;
    line = without_cr(std::move(line));
    if (number == 1) {
      modulus = declared_modulus(line, where);
      if (modulus == 0)
        throw Error(where + "a real-valued pair file starts with the line '" +
                    number_pairs_header(50) + "' (any modulus from 2 to " +
                    std::to_string(limits::kMaxNumberModulus) + ")");
      data.source_features = 1;
      continue;
    }
    if (line.empty()) continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos)
      throw Error(where + "no tab: each line must be input numbers<TAB>target numbers");
    const auto end = line.find('\t', tab + 1);  // further columns are ignored, as in text files
    const std::vector<int> source = numbers_of(line.substr(0, tab), modulus, where, "input");
    const std::vector<int> target = numbers_of(
        line.substr(tab + 1, end == std::string::npos ? std::string::npos : end - tab - 1),
        modulus, where, "target");
    std::vector<double> values;
    for (int n : source) values.push_back(static_cast<double>(n) / modulus);
    std::vector<std::int32_t> ids;
    for (int n : target) ids.push_back(Vocabulary::special_count + n);
    data.source_values.push_back(std::move(values));
    data.targets.push_back(std::move(ids));
  }
  if (in.bad()) throw Error(source_name + ": read error");
  if (modulus == 0) throw Error(source_name + ": the file is empty");
  if (data.size() == 0)
    throw Error(source_name + ": no input<TAB>target pairs after the '" +
                number_pairs_header(modulus) + "' line");
  data.target_vocab = progression_vocab(modulus);  // once the file is known to be good
  return data;
}

}  // namespace s2s
