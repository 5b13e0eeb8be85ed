// Evaluation over a data set (loss, token accuracy, greedy exact match, by target length) and
// batched greedy prediction.
#include <algorithm>
#include <string>

#include "s2s/error.h"
#include "s2s/trainer.h"

namespace s2s {

namespace {
// Adds the counts of the batch order[begin, end) to `result` (and to the per-length row when
// the batch holds one target length only).
void evaluate_batch(Seq2Seq& model, const SequenceData& data,
                    const std::vector<std::size_t>& order, std::size_t begin, std::size_t end,
                    bool with_exact, EvalResult::ByLength* row, EvalResult& result,
                    double& loss_sum, double& weight_sum) {
  const Batch batch = make_batch(data, order, begin, end);
  const StepResult r = model.evaluate(batch);
  std::int64_t real = 0;
  for (std::int32_t n : batch.target_lengths) real += n;
  loss_sum += r.loss * static_cast<double>(real);
  weight_sum += static_cast<double>(real);
  result.correct_tokens += r.correct;
  result.total_tokens += r.total;
  std::int64_t exact = 0;
  if (with_exact) {
    const auto predicted = model.predict_tokens(batch);
    for (std::size_t k = 0; k < predicted.size(); ++k)
      exact += predicted[k] == data.targets[order[begin + k]];
    result.exact += exact;
  }
  if (row) {
    row->examples += end - begin;
    row->correct_tokens += r.correct;
    row->total_tokens += r.total;
    row->exact += exact;
  }
}
}  // namespace

EvalResult evaluate(Seq2Seq& model, const SequenceData& data, int batch_size, bool with_exact,
                    bool per_length) {
  require(batch_size >= 1,
          "evaluate: batch_size is " + std::to_string(batch_size) + " (allowed: 1 or more)");
  require(data.size() > 0, "evaluate: the data has no examples");
  EvalResult result;
  result.examples = data.size();
  result.has_exact = with_exact;
  double loss_sum = 0, weight_sum = 0;
  const auto bs = static_cast<std::size_t>(batch_size);
  if (!per_length) {
    // Batches of neighbouring lengths (a stable sort by target, then source length), so that a
    // batch of short examples is not padded to the longest one: with pq's lengths of 3 to
    // 2,002 this halves the work and bounds a batch's memory by its own length.
    std::vector<std::size_t> order(data.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const std::size_t ta = data.targets.empty() ? 0 : data.targets[a].size();
      const std::size_t tb = data.targets.empty() ? 0 : data.targets[b].size();
      if (ta != tb) return ta < tb;
      return data.source_length(a) < data.source_length(b);
    });
    for (std::size_t i = 0; i < order.size(); i += bs)
      evaluate_batch(model, data, order, i, std::min(order.size(), i + bs), with_exact, nullptr,
                     result, loss_sum, weight_sum);
  } else {
    // Batches of one target length each, so the model's batch counts split by length.
    std::map<int, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < data.size(); ++i)
      groups[static_cast<int>(data.targets[i].size())].push_back(i);
    for (auto& [length, order] : groups) {
      EvalResult::ByLength& row = result.by_length[length];
      for (std::size_t i = 0; i < order.size(); i += bs)
        evaluate_batch(model, data, order, i, std::min(order.size(), i + bs), with_exact, &row,
                       result, loss_sum, weight_sum);
    }
  }
  result.loss = weight_sum > 0 ? loss_sum / weight_sum : 0.0;
  return result;
}

std::vector<std::vector<std::int32_t>> predict(Seq2Seq& model, const SequenceData& data,
                                               const std::vector<std::size_t>& indices,
                                               int batch_size) {
  require(batch_size >= 1,
          "predict: batch_size is " + std::to_string(batch_size) + " (allowed: 1 or more)");
  std::vector<std::vector<std::int32_t>> out;
  const auto bs = static_cast<std::size_t>(batch_size);
  for (std::size_t i = 0; i < indices.size(); i += bs) {
    const Batch batch = make_batch(data, indices, i, std::min(indices.size(), i + bs));
    for (auto& p : model.predict_tokens(batch)) out.push_back(std::move(p));
  }
  return out;
}

}  // namespace s2s
