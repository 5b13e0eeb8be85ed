// Building padded time-major batches from per-sequence token ids or feature vectors.
#include "s2s/batch.h"

#include <algorithm>
#include <string>

#include "s2s/error.h"
#include "s2s/vocab.h"

namespace s2s {

namespace {
void set_batch_size(Batch& batch, std::size_t n, const char* what) {
  require(n > 0, std::string(what) + ": no sequences given");
  if (batch.batch_size != 0 && batch.batch_size != static_cast<int>(n))
    throw Error(std::string(what) + ": " + std::to_string(n) +
                " sequences given for a batch of " + std::to_string(batch.batch_size));
  batch.batch_size = static_cast<int>(n);
}

// Lengths (in steps of `width` values) of each sequence; throws for empty or ragged ones.
template <typename U>
std::vector<std::int32_t> lengths_of(const std::vector<std::vector<U>>& seqs, int width,
                                     const char* what) {
  require(width >= 1, std::string(what) + ": features is " + std::to_string(width) +
                          " (allowed: 1 or more)");
  std::vector<std::int32_t> lengths;
  for (std::size_t b = 0; b < seqs.size(); ++b) {
    const std::size_t n = seqs[b].size();
    require(n > 0, std::string(what) + ": sequence " + std::to_string(b) + " is empty");
    require(n % static_cast<std::size_t>(width) == 0,
            std::string(what) + ": sequence " + std::to_string(b) + " has " + std::to_string(n) +
                " values, not a multiple of " + std::to_string(width) + " features");
    lengths.push_back(static_cast<std::int32_t>(n / width));
  }
  return lengths;
}

// Time-major [T, B, width] copy of the sequences, padded with `pad`.
template <typename U>
std::vector<U> time_major(const std::vector<std::vector<U>>& seqs,
                          const std::vector<std::int32_t>& lengths, int width, int steps, U pad) {
  const std::size_t B = seqs.size();
  std::vector<U> out(static_cast<std::size_t>(steps) * B * width, pad);
  for (std::size_t b = 0; b < B; ++b)
    for (int t = 0; t < lengths[b]; ++t)
      std::copy_n(seqs[b].begin() + static_cast<std::size_t>(t) * width, width,
                  out.begin() + (static_cast<std::size_t>(t) * B + b) * width);
  return out;
}

int longest(const std::vector<std::int32_t>& lengths) {
  return *std::max_element(lengths.begin(), lengths.end());
}
}  // namespace

void set_source_tokens(Batch& batch, const std::vector<std::vector<std::int32_t>>& sources) {
  set_batch_size(batch, sources.size(), "source tokens");
  batch.source_lengths = lengths_of(sources, 1, "source tokens");
  batch.source_length = longest(batch.source_lengths);
  batch.source_tokens =
      time_major(sources, batch.source_lengths, 1, batch.source_length, Vocabulary::pad_id);
}

void set_source_features(Batch& batch, const std::vector<std::vector<double>>& sources,
                         int features) {
  set_batch_size(batch, sources.size(), "source features");
  batch.source_lengths = lengths_of(sources, features, "source features");
  batch.source_length = longest(batch.source_lengths);
  batch.source_features = time_major(sources, batch.source_lengths, features,
                                     batch.source_length, 0.0);
}

void set_target_tokens(Batch& batch, const std::vector<std::vector<std::int32_t>>& targets) {
  set_batch_size(batch, targets.size(), "target tokens");
  std::vector<std::vector<std::int32_t>> with_end = targets;
  for (auto& t : with_end) t.push_back(Vocabulary::end_id);
  batch.target_lengths = lengths_of(with_end, 1, "target tokens");
  batch.target_length = longest(batch.target_lengths);
  batch.target_tokens =
      time_major(with_end, batch.target_lengths, 1, batch.target_length, Vocabulary::pad_id);
}

void set_target_features(Batch& batch, const std::vector<std::vector<double>>& targets,
                         int features) {
  set_batch_size(batch, targets.size(), "target features");
  batch.target_lengths = lengths_of(targets, features, "target features");
  batch.target_length = longest(batch.target_lengths);
  batch.target_features = time_major(targets, batch.target_lengths, features,
                                     batch.target_length, 0.0);
}

Batch make_token_batch(const std::vector<std::vector<std::int32_t>>& sources,
                       const std::vector<std::vector<std::int32_t>>& targets) {
  Batch batch;
  set_source_tokens(batch, sources);
  if (!targets.empty()) set_target_tokens(batch, targets);
  return batch;
}

}  // namespace s2s
