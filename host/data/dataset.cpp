// Text pairs as token ids, and batches of them.
#include <string>
#include <vector>

#include "s2s/error.h"
#include "s2s/tasks.h"

namespace s2s {

TokenDataset encode_pairs(const std::vector<TextPair>& pairs, Vocabulary source_vocab,
                          Vocabulary target_vocab) {
  TokenDataset data;
  std::vector<std::string> inputs, targets;
  for (const auto& p : pairs) {
    inputs.push_back(p.input);
    targets.push_back(p.target);
  }
  data.source_vocab = source_vocab.symbols().empty() ? Vocabulary::from_texts(inputs)
                                                     : std::move(source_vocab);
  data.target_vocab = target_vocab.symbols().empty() ? Vocabulary::from_texts(targets)
                                                     : std::move(target_vocab);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    try {
      data.sources.push_back(data.source_vocab.encode(pairs[i].input));
      data.targets.push_back(data.target_vocab.encode(pairs[i].target));
    } catch (const Error& e) {
      throw Error("pair " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  return data;
}

Batch make_batch(const TokenDataset& data, const std::vector<std::size_t>& order,
                 std::size_t begin, std::size_t end) {
  require(begin < end && end <= order.size(),
          "make_batch: range [" + std::to_string(begin) + ", " + std::to_string(end) +
              ") does not fit " + std::to_string(order.size()) + " examples");
  std::vector<std::vector<std::int32_t>> sources, targets;
  for (std::size_t i = begin; i < end; ++i) {
    require(order[i] < data.size(), "make_batch: example " + std::to_string(order[i]) +
                                        " is beyond the dataset's " +
                                        std::to_string(data.size()));
    sources.push_back(data.sources[order[i]]);
    targets.push_back(data.targets[order[i]]);
  }
  return make_token_batch(sources, targets);
}

}  // namespace s2s
