// `predict --attention-map FILE`: what the model attended to, per example, as a PNG heat map
// (one row per output step, one column per source position) and all the numbers in one JSON.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace s2s::cli {

struct AttentionMap {
  std::size_t input_number = 0;      // 1-based, as the inputs were given
  std::vector<std::string> source;   // one label per source position
  std::vector<std::string> output;   // one label per output step ("</s>" for the end token)
  std::vector<std::vector<double>> weights;  // [output steps][source positions]
};

// The files for FILE: FILE without a trailing ".png" is the stem; example n's heat map is
// "<stem>-<n>.png" and the raw weights of all examples are "<stem>.json".
std::string attention_map_png_path(const std::string& file, std::size_t input_number);
std::string attention_map_json_path(const std::string& file);

// Writes every PNG and the JSON, all or none (write_files_atomically). The JSON:
// {"examples": [{"input": n, "source": [...], "output": [...], "weights": [[...], ...]}, ...]}.
void write_attention_maps(const std::string& file, const std::vector<AttentionMap>& maps);

}  // namespace s2s::cli
