// SequenceData: token or feature sources with token targets, batches of them, and the split.
#include "s2s/sequences.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "s2s/error.h"
#include "s2s/random.h"

namespace s2s {

int SequenceData::source_length(std::size_t i) const {
  if (feature_sources())
    return static_cast<int>(source_values[i].size() / static_cast<std::size_t>(source_features));
  return static_cast<int>(source_tokens[i].size());
}

int SequenceData::max_source_length() const {
  int longest = 0;
  for (std::size_t i = 0; i < size(); ++i) longest = std::max(longest, source_length(i));
  return longest;
}

int SequenceData::max_target_length() const {
  std::size_t longest = 0;
  for (const auto& t : targets) longest = std::max(longest, t.size());
  return static_cast<int>(longest);
}

void SequenceData::validate() const {
  const std::size_t sources = feature_sources() ? source_values.size() : source_tokens.size();
  require(sources == targets.size(), "data: " + std::to_string(sources) + " sources for " +
                                         std::to_string(targets.size()) + " targets");
  require(source_features >= 0,
          "data: source_features is " + std::to_string(source_features) + " (allowed: 0 or more)");
  const auto check_ids = [](const std::vector<std::int32_t>& ids, int vocab, std::size_t i,
                            const char* side) {
    require(!ids.empty(), std::string("data: example ") + std::to_string(i + 1) + " has an empty " +
                              side);
    for (std::int32_t id : ids)
      if (id < Vocabulary::special_count || id >= vocab)
        throw Error(std::string("data: example ") + std::to_string(i + 1) + ": " + side +
                    " token " + std::to_string(id) + " is outside the vocabulary (allowed: " +
                    std::to_string(Vocabulary::special_count) + " to " +
                    std::to_string(vocab - 1) + ")");
  };
  for (std::size_t i = 0; i < size(); ++i) {
    if (feature_sources()) {
      const auto& v = source_values[i];
      require(!v.empty() && v.size() % static_cast<std::size_t>(source_features) == 0,
              "data: example " + std::to_string(i + 1) + " has " + std::to_string(v.size()) +
                  " source values (allowed: a positive multiple of " +
                  std::to_string(source_features) + ")");
      for (double x : v)
        require(std::isfinite(x),
                "data: example " + std::to_string(i + 1) + " has a non-finite source value");
    } else {
      check_ids(source_tokens[i], source_vocab.size(), i, "source");
    }
    check_ids(targets[i], target_vocab.size(), i, "target");
  }
}

SequenceData sequence_data(const TokenDataset& tokens) {
  SequenceData data;
  data.source_vocab = tokens.source_vocab;
  data.target_vocab = tokens.target_vocab;
  data.source_tokens = tokens.sources;
  data.targets = tokens.targets;
  return data;
}

SequenceData select(const SequenceData& data, const std::vector<std::size_t>& indices) {
  SequenceData out;
  out.source_vocab = data.source_vocab;
  out.target_vocab = data.target_vocab;
  out.source_features = data.source_features;
  for (std::size_t i : indices) {
    require(i < data.size(), "select: example " + std::to_string(i) + " is beyond the " +
                                 std::to_string(data.size()) + " there are");
    if (data.feature_sources())
      out.source_values.push_back(data.source_values[i]);
    else
      out.source_tokens.push_back(data.source_tokens[i]);
    if (!data.targets.empty()) out.targets.push_back(data.targets[i]);
  }
  return out;
}

Batch make_batch(const SequenceData& data, const std::vector<std::size_t>& order,
                 std::size_t begin, std::size_t end) {
  require(begin < end && end <= order.size(),
          "make_batch: range [" + std::to_string(begin) + ", " + std::to_string(end) +
              ") does not fit " + std::to_string(order.size()) + " examples");
  Batch batch;
  std::vector<std::vector<std::int32_t>> targets;
  targets.reserve(end - begin);
  if (data.feature_sources()) {
    std::vector<std::vector<double>> sources;
    for (std::size_t i = begin; i < end; ++i) {
      require(order[i] < data.size(), "make_batch: example " + std::to_string(order[i]) +
                                          " is beyond the dataset's " +
                                          std::to_string(data.size()));
      sources.push_back(data.source_values[order[i]]);
      if (!data.targets.empty()) targets.push_back(data.targets[order[i]]);
    }
    set_source_features(batch, sources, data.source_features);
  } else {
    std::vector<std::vector<std::int32_t>> sources;
    for (std::size_t i = begin; i < end; ++i) {
      require(order[i] < data.size(), "make_batch: example " + std::to_string(order[i]) +
                                          " is beyond the dataset's " +
                                          std::to_string(data.size()));
      sources.push_back(data.source_tokens[order[i]]);
      if (!data.targets.empty()) targets.push_back(data.targets[order[i]]);
    }
    set_source_tokens(batch, sources);
  }
  if (!data.targets.empty()) set_target_tokens(batch, targets);
  return batch;
}

ValidationSplit split_validation(const SequenceData& data, double fraction, std::uint64_t seed) {
  require(fraction >= 0.0 && fraction < 1.0,
          "validation split is " + std::to_string(fraction) + " (allowed: 0 <= split < 1)");
  const std::size_t n = data.size();
  require(n > 0, "validation split: the data has no examples");
  const auto n_valid = static_cast<std::size_t>(std::floor(static_cast<double>(n) * fraction));
  if (fraction > 0.0 && n_valid == 0)
    throw Error("validation split " + std::to_string(fraction) + " of " + std::to_string(n) +
                " examples leaves no validation example (use a larger split, more data, or a "
                "split of 0)");
  require(n_valid < n, "validation split " + std::to_string(fraction) + " of " +
                           std::to_string(n) + " examples leaves no training example");
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  Rng rng(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  const std::size_t split_at = n - n_valid;
  ValidationSplit split;
  split.train = select(data, std::vector<std::size_t>(order.begin(), order.begin() + split_at));
  split.valid = select(data, std::vector<std::size_t>(order.begin() + split_at, order.end()));
  return split;
}

}  // namespace s2s
