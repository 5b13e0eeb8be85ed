// Users' pair files: UTF-8 lines "input<TAB>target", checked line by line.
#include <fstream>
#include <sstream>
#include <string>

#include "s2s/error.h"
#include "s2s/tasks.h"
#include "s2s/vocab.h"

namespace s2s {

std::vector<TextPair> parse_pairs(std::istream& in, const std::string& source_name) {
  std::vector<TextPair> pairs;
  std::string line;
  long long number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = source_name + ":" + std::to_string(number) + ": ";
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
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
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the pair file (does it exist and is it readable?)");
  return parse_pairs(in, path);
}

}  // namespace s2s
