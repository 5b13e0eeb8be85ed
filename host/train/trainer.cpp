// The Trainer: epochs of seeded shuffled batches, validation, seed 001's early stopping,
// checkpoints each epoch and at the best validation loss, callbacks, and exact resume.
#include "s2s/trainer.h"

#include <chrono>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "s2s/batching.h"
#include "s2s/error.h"
#include "train/data_parallel.h"

namespace s2s {

namespace {
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The size checks between data and model, naming what differs.
void check_fits(const SequenceData& data, const ModelConfig& config, const char* which) {
  const std::string where = std::string(which) + " data: ";
  require(config.output == OutputKind::tokens,
          where + "the trainer needs a model with token outputs (this one outputs " +
              to_string(config.output) + ")");
  if (data.feature_sources()) {
    require(config.input == InputKind::features,
            where + "the sources are real-valued but the model's input is " +
                to_string(config.input));
    require(config.source_features == data.source_features,
            where + "sources have " + std::to_string(data.source_features) +
                " features per step but the model takes " +
                std::to_string(config.source_features));
  } else {
    require(config.input != InputKind::features,
            where + "the sources are tokens but the model's input is features");
    require(config.source_vocab_size == data.source_vocab.size(),
            where + "the source vocabulary has " + std::to_string(data.source_vocab.size()) +
                " ids but the model's source_vocab_size is " +
                std::to_string(config.source_vocab_size));
  }
  require(config.target_vocab_size == data.target_vocab.size(),
          where + "the target vocabulary has " + std::to_string(data.target_vocab.size()) +
              " ids but the model's target_vocab_size is " +
              std::to_string(config.target_vocab_size));
  const int needed = data.max_target_length() + 1;
  require(needed <= config.max_target_length,
          where + "the longest target needs " + std::to_string(needed) +
              " decoder steps (end token included) but the model's max_target_length is " +
              std::to_string(config.max_target_length));
}

nlohmann::json parse_object(const std::string& text, const char* what) {
  nlohmann::json j = nlohmann::json::parse(text.empty() ? std::string("{}") : text, nullptr,
                                           /*allow_exceptions=*/false);
  require(j.is_object(), std::string(what) + " is not a JSON object: '" + text + "'");
  return j;
}
}  // namespace

bool EarlyStopping::observe(double valid_loss) {
  const bool improved = !(previous - valid_loss < min_delta);
  previous = valid_loss;
  waited = improved ? 0 : waited + 1;
  return patience > 0 && waited >= patience;
}

void TrainerOptions::validate() const {
  require(epochs >= 0, "epochs is " + std::to_string(epochs) + " (allowed: 0 or more)");
  require(batch_size >= 1,
          "batch_size is " + std::to_string(batch_size) + " (allowed: 1 or more)");
  require(patience >= 0, "patience is " + std::to_string(patience) + " (allowed: 0 or more)");
  require(std::isfinite(min_delta) && min_delta >= 0,
          "min_delta is " + std::to_string(min_delta) + " (allowed: 0 or more)");
  require(eval_batch_size >= 1,
          "eval_batch_size is " + std::to_string(eval_batch_size) + " (allowed: 1 or more)");
  require(eval_every >= 0,
          "eval_every is " + std::to_string(eval_every) + " (allowed: 0 or more; 0 = off)");
  require(std::isfinite(target_exact_match) && target_exact_match >= 0 && target_exact_match <= 1,
          "target_exact_match is " + std::to_string(target_exact_match) +
              " (allowed: 0 to 1; 0 = off)");
  require(max_steps >= 0,
          "max_steps is " + std::to_string(max_steps) + " (allowed: 0 or more; 0 = no limit)");
  parse_object(data_json, "data_json");
}

std::string best_checkpoint_path(const std::string& path) {
  const std::string suffix = ".safetensors";
  if (path.size() > suffix.size() &&
      path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
    return path.substr(0, path.size() - suffix.size()) + ".best" + suffix;
  return path + ".best";
}

Trainer::Trainer(Seq2Seq& model, SequenceData train, SequenceData valid, TrainerOptions options)
    : model_(model),
      train_(std::move(train)),
      valid_(std::move(valid)),
      options_(std::move(options)),
      rng_(options_.shuffle_seed) {
  options_.validate();
  require(train_.size() > 0, "trainer: the training data has no examples");
  train_.validate();
  check_fits(train_, model_.config(), "training");
  if (valid_.size() > 0) {
    valid_.validate();
    check_fits(valid_, model_.config(), "validation");
  }
  early_.patience = options_.patience;
  early_.min_delta = options_.min_delta;
  if (options_.eval_examples > 0 && options_.eval_examples < valid_.size()) {
    std::vector<std::size_t> first(options_.eval_examples);
    for (std::size_t i = 0; i < first.size(); ++i) first[i] = i;
    valid_eval_ = select(valid_, first);
  } else {
    valid_eval_ = valid_;
  }
}

EvalResult Trainer::validate_now() {
  return evaluate(model_, valid_eval_, *comm_, options_.eval_batch_size, true);
}

std::vector<std::vector<std::size_t>> Trainer::epoch_batches() {
  const auto bs = static_cast<std::size_t>(options_.batch_size);
  if (options_.bucket) return bucketed_batches(train_, bs, rng_);
  return shuffled_batches(train_.size(), bs, rng_);
}

void Trainer::restore(const TrainingState& state) {
  require(state.epoch >= 0, "resume: the checkpoint's epoch is " + std::to_string(state.epoch));
  require(state.epochs_without_improvement >= 0,
          "resume: the checkpoint's epochs_without_improvement is " +
              std::to_string(state.epochs_without_improvement));
  require(state.step == model_.optimizer_step(),
          "resume: the training state says " + std::to_string(state.step) +
              " optimizer steps but the model's optimizer has made " +
              std::to_string(model_.optimizer_step()));
  Rng rng(options_.shuffle_seed);
  std::istringstream in(state.rng_state);
  in >> rng.engine();
  require(!in.fail() && !state.rng_state.empty(),
          "resume: the checkpoint's shuffling state (rng_state) is missing or unreadable");
  const nlohmann::json data = parse_object(state.data_json, "resume: the checkpoint's data_json");
  double previous = std::numeric_limits<double>::infinity();
  if (data.contains("trainer") && data["trainer"].is_object()) {
    const auto& p = data["trainer"].value("previous_valid_loss", nlohmann::json());
    if (p.is_number()) previous = p.get<double>();
  }
  rng_ = rng;
  epoch_ = state.epoch;
  best_valid_loss_ = state.best_valid_loss;
  early_.previous = previous;
  early_.waited = state.epochs_without_improvement;
}

TrainingState Trainer::state() const {
  TrainingState s;
  s.epoch = epoch_;
  s.step = model_.optimizer_step();
  s.best_valid_loss = best_valid_loss_;
  s.epochs_without_improvement = early_.waited;
  Rng engine = rng_;  // engine() is not const; a copy has the same state
  std::ostringstream out;
  out << engine.engine();
  s.rng_state = out.str();
  nlohmann::json data = parse_object(options_.data_json, "data_json");
  data["trainer"] = {{"previous_valid_loss", std::isfinite(early_.previous)
                                                 ? nlohmann::json(early_.previous)
                                                 : nlohmann::json()}};
  s.data_json = data.dump();
  return s;
}

void Trainer::save(const std::string& path) const {
  if (comm_->rank() != 0) return;  // data parallel: rank 0 writes, the others hold the same
  save_checkpoint(path, checkpoint_of(model_, train_.source_vocab, train_.target_vocab, state()));
}

std::vector<EpochMetrics> Trainer::fit() {
  stopped_early_ = false;
  reached_target_ = false;
  best_exact_match_ = std::numeric_limits<double>::quiet_NaN();
  fit_steps_ = 0;
  fit_start_ = Clock::now();
  std::vector<EpochMetrics> history;
  // A run that early stopping ended stays ended when resumed.
  if (early_.patience > 0 && early_.waited >= early_.patience) {
    stopped_early_ = true;
    return history;
  }
  check_ranks_agree("data-parallel training");
  while (epoch_ < options_.epochs) {
    history.push_back(run_epoch());
    check_ranks_agree("after an epoch of data-parallel training");
    if (history.back().reached_target) {
      reached_target_ = true;
      break;
    }
    if (history.back().stop) {
      stopped_early_ = true;
      break;
    }
    if (options_.max_steps > 0 && fit_steps_ >= options_.max_steps) break;
  }
  return history;
}

EpochMetrics Trainer::run_epoch() {
  const Clock::time_point start = Clock::now();
  EpochMetrics m;
  m.epoch = epoch_ + 1;

  // This epoch's batches: from a fresh shuffle, so they depend on the engine's state only.
  const std::size_t n = train_.size();
  const std::vector<std::vector<std::size_t>> batches = epoch_batches();

  StepProgress progress;
  progress.epoch = m.epoch;
  progress.steps = static_cast<std::int64_t>(batches.size());
  progress.epoch_examples = n;
  double loss_sum = 0, weight_sum = 0;
  std::int64_t correct = 0, total = 0;
  std::size_t done = 0;
  double eval_seconds = 0;  // step-level validations, kept out of the training rate
  const bool with_valid = valid_.size() > 0;
  const auto keep_best = [&](double exact) {
    if (std::isnan(best_exact_match_) || exact > best_exact_match_) best_exact_match_ = exact;
  };
  for (const auto& indices : batches) {
    const Batch batch = rank_batch(train_, indices, 0, indices.size(), *comm_);
    const StepResult r = model_.train_step(batch, *comm_);
    ++fit_steps_;
    done += indices.size();
    std::int64_t real = 0;
    for (std::int32_t len : batch.target_lengths) real += len;
    if (comm_->size() > 1) real = r.total;  // the global batch's target tokens (r is global)
    loss_sum += r.loss * static_cast<double>(real);
    weight_sum += static_cast<double>(real);
    correct += r.correct;
    total += r.total;
    ++progress.step;
    progress.loss = loss_sum / weight_sum;
    progress.accuracy = total ? static_cast<double>(correct) / total : 0.0;
    progress.seconds = seconds_since(start);
    progress.examples = done;
    if (on_step_) on_step_(progress);

    const bool last = progress.step == progress.steps;
    if (!last && with_valid && options_.eval_every > 0 &&
        model_.optimizer_step() % options_.eval_every == 0) {
      const Clock::time_point eval_start = Clock::now();
      const EvalResult v = validate_now();
      eval_seconds += seconds_since(eval_start);
      StepEval e;
      e.epoch = m.epoch;
      e.step = model_.optimizer_step();
      e.epoch_step = progress.step;
      e.examples = v.examples;
      e.val_loss = v.loss;
      e.val_accuracy = v.accuracy();
      e.val_exact_match = v.exact_match();
      e.seconds = seconds_since(fit_start_);
      keep_best(e.val_exact_match);
      if (on_eval_) on_eval_(e);
      if (options_.target_exact_match > 0 && e.val_exact_match >= options_.target_exact_match) {
        m.partial = true;
        break;
      }
    }
    if (!last && options_.max_steps > 0 && fit_steps_ >= options_.max_steps) {
      m.partial = true;
      break;
    }
  }
  const double train_seconds = seconds_since(start) - eval_seconds;
  m.loss = loss_sum / weight_sum;
  m.accuracy = total ? static_cast<double>(correct) / total : 0.0;
  m.examples_per_second = train_seconds > 0 ? static_cast<double>(done) / train_seconds : 0.0;
  m.steps = model_.optimizer_step();
  m.learning_rate = model_.optimizer().rate_at(std::max<std::int64_t>(0, m.steps - 1));

  if (options_.train_exact_match) {
    m.exact_match = evaluate(model_, train_, *comm_, options_.eval_batch_size, true).exact_match();
    if (!with_valid) {
      keep_best(m.exact_match);
      m.reached_target =
          options_.target_exact_match > 0 && m.exact_match >= options_.target_exact_match;
    }
  }
  m.improved = true;
  if (with_valid) {
    const EvalResult v = validate_now();
    m.val_loss = v.loss;
    m.val_accuracy = v.accuracy();
    m.val_exact_match = v.exact_match();
    m.best = v.loss < best_valid_loss_;
    if (m.best) best_valid_loss_ = v.loss;
    m.stop = early_.observe(v.loss);
    m.improved = early_.waited == 0;
    keep_best(m.val_exact_match);
    m.reached_target =
        options_.target_exact_match > 0 && m.val_exact_match >= options_.target_exact_match;
  }
  epoch_ = m.epoch;

  if (m.best && !options_.best_checkpoint_path.empty()) save(options_.best_checkpoint_path);
  if (!options_.checkpoint_path.empty()) save(options_.checkpoint_path);
  m.seconds = seconds_since(start);
  if (on_epoch_) on_epoch_(m);
  return m;
}

void Trainer::check_ranks_agree(const char* when) const {
  if (comm_->size() == 1) return;
  require_trainer_ranks_agree(*comm_, model_, train_, valid_, options_, state(), when);
}

}  // namespace s2s
