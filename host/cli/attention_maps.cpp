// Attention map files of `predict --attention-map`: heat maps through io/png_heatmap, the
// numbers as JSON, written together atomically.
#include "cli/attention_maps.h"

#include <utility>

#include <nlohmann/json.hpp>

#include "cli/output_files.h"
#include "io/png_heatmap.h"

namespace s2s::cli {

namespace {
std::string stem_of(const std::string& file) {
  const std::string suffix = ".png";
  if (file.size() > suffix.size() &&
      file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0)
    return file.substr(0, file.size() - suffix.size());
  return file;
}
}  // namespace

std::string attention_map_png_path(const std::string& file, std::size_t input_number) {
  return stem_of(file) + "-" + std::to_string(input_number) + ".png";
}

std::string attention_map_json_path(const std::string& file) { return stem_of(file) + ".json"; }

void write_attention_maps(const std::string& file, const std::vector<AttentionMap>& maps) {
  std::vector<std::pair<std::string, std::string>> files;
  nlohmann::ordered_json examples = nlohmann::ordered_json::array();
  for (const AttentionMap& m : maps) {
    files.emplace_back(attention_map_png_path(file, m.input_number), png_heatmap(m.weights));
    nlohmann::ordered_json e;
    e["input"] = m.input_number;
    e["source"] = m.source;
    e["output"] = m.output;
    e["weights"] = m.weights;
    examples.push_back(std::move(e));
  }
  nlohmann::ordered_json all;
  all["examples"] = std::move(examples);
  files.emplace_back(attention_map_json_path(file), all.dump() + "\n");
  write_files_atomically(files, "--attention-map");
}

}  // namespace s2s::cli
