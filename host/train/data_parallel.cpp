// Sharding the global batch, sharded evaluation, and the ranks' agreement check.
#include "train/data_parallel.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "parallel/agreement.h"
#include "parallel/shard.h"
#include "s2s/error.h"

namespace s2s {

namespace {
// The data's shape (sizes of every example) and the contents of up to kSampled examples spread
// evenly over it: different files, seeds or tasks show up without hashing gigabytes.
constexpr std::size_t kSampled = 1024;

std::uint64_t data_hash(const SequenceData& data) {
  std::uint64_t h = kHashSeed;
  const std::size_t n = data.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t sizes[2] = {data.source_length(i),
                                   i < data.targets.size()
                                       ? static_cast<std::int64_t>(data.targets[i].size())
                                       : -1};
    h = hash_bytes(sizes, sizeof sizes, h);
  }
  const std::size_t stride = std::max<std::size_t>(1, n / kSampled);
  for (std::size_t i = 0; i < n; i += stride) {
    if (data.feature_sources())
      h = hash_bytes(data.source_values[i].data(),
                     data.source_values[i].size() * sizeof(double), h);
    else
      h = hash_bytes(data.source_tokens[i].data(),
                     data.source_tokens[i].size() * sizeof(std::int32_t), h);
    if (i < data.targets.size())
      h = hash_bytes(data.targets[i].data(), data.targets[i].size() * sizeof(std::int32_t), h);
  }
  const std::string vocab = nlohmann::json(data.source_vocab.symbols()).dump() +
                            nlohmann::json(data.target_vocab.symbols()).dump();
  return hash_bytes(vocab.data(), vocab.size(), h);
}

template <typename T>
std::uint64_t vector_hash(const std::vector<T>& values, std::uint64_t h = kHashSeed) {
  return hash_bytes(values.data(), values.size() * sizeof(T), h);
}

std::uint64_t text_hash(const std::string& text) { return hash_bytes(text.data(), text.size()); }

std::string config_text(const ModelConfig& c) {
  return nlohmann::json{{"cell", to_string(c.cell)}, {"hidden_size", c.hidden_size},
                        {"layers", c.layers}, {"mode", to_string(c.mode)},
                        {"input", to_string(c.input)}, {"source_vocab_size", c.source_vocab_size},
                        {"source_features", c.source_features},
                        {"embedding_size", c.embedding_size}, {"output", to_string(c.output)},
                        {"target_vocab_size", c.target_vocab_size},
                        {"target_features", c.target_features},
                        {"max_target_length", c.max_target_length}}
      .dump();
}

std::string optimizer_text(const Seq2Seq& model) {
  if (!model.has_optimizer()) return "none";
  const OptimizerConfig& o = model.optimizer();
  return nlohmann::json{{"kind", to_string(o.kind)}, {"learning_rate", o.learning_rate},
                        {"momentum", o.momentum},    {"beta1", o.beta1},
                        {"beta2", o.beta2},          {"epsilon", o.epsilon},
                        {"decay", o.decay},          {"clip_norm", o.clip_norm},
                        {"step", model.optimizer_step()}}
      .dump();
}

AgreementField count_field(const char* what, std::size_t n) {
  return {what, static_cast<std::int64_t>(n), std::to_string(n)};
}
AgreementField hash_field(const char* what, std::uint64_t h) {
  char shown[24];
  std::snprintf(shown, sizeof shown, "hash %016llx", static_cast<unsigned long long>(h));
  return {what, as_field(h), shown};
}
}  // namespace

Batch rank_batch(const SequenceData& data, const std::vector<std::size_t>& order,
                 std::size_t begin, std::size_t end, const Communicator& comm) {
  if (comm.size() == 1) return make_batch(data, order, begin, end);
  const ShardRange s = shard_range(end - begin, comm.rank(), comm.size());
  if (s.size() == 0) return Batch{};
  return make_batch(data, order, begin + s.begin, begin + s.end);
}

EvalResult evaluate(Seq2Seq& model, const SequenceData& data, const Communicator& comm,
                    int batch_size, bool with_exact) {
  if (comm.size() == 1) return evaluate(model, data, batch_size, with_exact);
  require(data.size() > 0, "evaluate: the data has no examples");
  const ShardRange s = shard_range(data.size(), comm.rank(), comm.size());
  EvalResult local;
  if (s.size() > 0) {
    std::vector<std::size_t> mine(s.size());
    for (std::size_t i = 0; i < mine.size(); ++i) mine[i] = s.begin + i;
    local = evaluate(model, select(data, mine), batch_size, with_exact);
  }
  // The loss is a mean over target tokens, so each rank's is weighted by its token count.
  double totals[5] = {local.loss * static_cast<double>(local.total_tokens),
                      static_cast<double>(local.total_tokens),
                      static_cast<double>(local.correct_tokens), static_cast<double>(local.exact),
                      static_cast<double>(local.examples)};
  comm.allreduce(totals, 5, ReduceOp::sum);
  EvalResult result;
  result.examples = static_cast<std::size_t>(totals[4]);
  result.loss = totals[1] > 0 ? totals[0] / totals[1] : 0.0;
  result.total_tokens = static_cast<std::int64_t>(totals[1]);
  result.correct_tokens = static_cast<std::int64_t>(totals[2]);
  result.exact = static_cast<std::int64_t>(totals[3]);
  result.has_exact = with_exact;
  return result;
}

void require_trainer_ranks_agree(const Communicator& comm, Seq2Seq& model,
                                 const SequenceData& train, const SequenceData& valid,
                                 const TrainerOptions& options, const TrainingState& state,
                                 const char* when) {
  if (comm.size() == 1) return;
  require(comm.size() <= options.batch_size,
          std::string(when) + ": " + std::to_string(comm.size()) +
              " ranks for a global batch of " + std::to_string(options.batch_size) +
              " examples (allowed: at most as many ranks as --batch-size, so that every rank "
              "has a share of every full batch)");
  const nlohmann::json settings = {
      {"epochs", options.epochs},           {"batch_size", options.batch_size},
      {"shuffle_seed", options.shuffle_seed}, {"patience", options.patience},
      {"min_delta", options.min_delta},     {"train_exact_match", options.train_exact_match},
      {"eval_batch_size", options.eval_batch_size}, {"data_json", options.data_json}};
  const nlohmann::json training = {{"epoch", state.epoch},
                                   {"step", state.step},
                                   {"rng_state", state.rng_state},
                                   {"epochs_without_improvement", state.epochs_without_improvement},
                                   {"best_valid_loss", std::to_string(state.best_valid_loss)}};
  std::uint64_t optimizer = text_hash(optimizer_text(model));
  for (const auto& [name, values] : model.optimizer_state())
    optimizer = vector_hash(values, hash_bytes(name.data(), name.size(), optimizer));
  const std::vector<AgreementField> fields = {
      count_field("number of training examples", train.size()),
      count_field("number of validation examples", valid.size()),
      hash_field("training data", data_hash(train)),
      hash_field("validation data", data_hash(valid)),
      hash_field("trainer options", text_hash(settings.dump())),
      hash_field("model config", text_hash(config_text(model.config()))),
      count_field("parameter count", model.parameter_count()),
      hash_field("parameter values", vector_hash(model.parameters())),
      hash_field("optimizer and its state", optimizer),
      hash_field("training state (epoch, step, shuffling, early stopping)",
                 text_hash(training.dump())),
  };
  require_ranks_agree(comm, fields, when);
}

}  // namespace s2s
