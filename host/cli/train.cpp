// `s2s train`: data (task or pair files), model, optimizer and training flags; validates them
// all, checks the output paths, then runs the Trainer with a progress bar, metrics log,
// validation samples and checkpoints; --resume continues a run exactly.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/data_spec.h"
#include "cli/output_files.h"
#include "cli/path_checks.h"
#include "cli/progress.h"
#include "s2s/backend.h"
#include "s2s/checkpoint.h"
#include "s2s/error.h"
#include "s2s/random.h"
#include "s2s/trainer.h"

namespace s2s::cli {

namespace {
using Json = nlohmann::json;

// The seeds' configurations, per task ("file" for --data).
struct TaskDefaults {
  int hidden;
  const char* mode;
  int epochs;
  int batch_size;
  double valid_split;
  int patience;
  double decay;
};

TaskDefaults defaults_for(const std::string& task) {
  if (task == "digits-words") return {32, "teacher_forcing", 300, 2, 0.0, 0, 0.0};       // 000
  if (task == "addition" || task == "subtraction" || task == "pq")
    return {128, "repeat", 50, 128, 0.1, 3, 0.0};                                       // 001
  if (task == "progression") return {200, "teacher_forcing", 150, 1, 0.0, 0, 1e-5};     // 002
  if (task == "copy" || task == "reverse") return {128, "teacher_forcing", 20, 64, 0.1, 3, 0.0};
  return {128, "teacher_forcing", 20, 64, 0.1, 0, 0.0};  // pair files
}

const char* kDefaultsTable =
    "Defaults per task (any flag overrides them; all use Adam 1e-3, one-hot inputs, LSTM):\n"
    "  task                      hidden mode             epochs batch valid  early-stopping\n"
    "  digits-words (seed 000)   32     teacher_forcing  300    2     0      off\n"
    "  addition, subtraction, pq 128    repeat           50     128   0.1    3 (min-delta 0.001)\n"
    "    (seed 001)\n"
    "  progression (seed 002)    200    teacher_forcing  150    1     0      off; --decay 1e-5;\n"
    "                                                                        real-valued inputs\n"
    "  copy, reverse             128    teacher_forcing  20     64    0.1    3 (min-delta 0.001)\n"
    "  --data FILE               128    teacher_forcing  20     64    0.1    off\n"
    "progression: the seed's x -> 3x mod 50; --digits is the sequence length (default 10),\n"
    "--size the number of sequences (default 50), inputs are x/50, targets 50 classes.\n"
    "Without a validation set, exact match is measured on the training data each epoch.\n"
    "Seeds: --seed drives the task's data, the model's initialisation, the validation split\n"
    "and the shuffles; the same flags give the same run.";

struct TrainArgs {
  std::string task, data, valid;
  double valid_split = 0.1;
  int digits = 0, max_dashes = 0, size = 0;
  bool reverse = false;
  std::uint64_t seed = 1;

  std::string cell = "lstm";
  int hidden = 128, layers = 1;
  std::string mode = "teacher_forcing";
  std::string embedding = "one-hot";

  int epochs = 20, batch_size = 64;
  std::string optimizer = "adam";
  double lr = 1e-3, momentum = 0, decay = 0, clip = 0;
  int patience = 0;
  double min_delta = 0.001;
  std::string device = "auto";

  std::string out, resume, metrics;
  bool quiet = false;
  int samples = 5;

  std::map<std::string, CLI::Option*> options;
  bool given(const std::string& flag) const {
    auto it = options.find(flag);
    return it != options.end() && it->second->count() > 0;
  }
};

std::string backend_note(BackendKind requested, BackendKind resolved) {
  if (requested != BackendKind::automatic) return to_string(resolved);
  if (resolved == BackendKind::cuda) return "cuda (auto: a usable GPU was found)";
  return cuda_built() ? "cpu (auto: no usable GPU)" : "cpu (auto: built without CUDA)";
}

// Number of characters of UTF-8 text (bytes when it is not valid UTF-8).
std::size_t text_width(const std::string& s) {
  try {
    return utf8_characters(s).size();
  } catch (const Error&) {
    return s.size();
  }
}

std::string padded(const std::string& s, std::size_t width) {
  const std::size_t w = text_width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

// A few examples with the model's greedy predictions, as the seeds print them.
void print_samples(Seq2Seq& model, const SequenceData& data, const Presentation& presentation,
                   int count, std::uint64_t seed, bool color) {
  if (count <= 0 || data.size() == 0) return;
  // Distinct examples: the first `count` of a seeded partial shuffle.
  Rng rng(seed);
  std::vector<std::size_t> all(data.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  const std::size_t n = std::min(all.size(), static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < n; ++i) std::swap(all[i], all[i + rng.below(all.size() - i)]);
  const std::vector<std::size_t> picks(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
  const auto predicted = predict(model, data, picks);
  std::vector<std::vector<std::string>> rows;
  std::size_t w0 = 5, w1 = 6, w2 = 10;
  for (std::size_t k = 0; k < picks.size(); ++k) {
    const std::string in = presentation.show_source(data, picks[k]);
    const std::string target = presentation.show_tokens(data.target_vocab, data.targets[picks[k]]);
    const std::string guess = presentation.show_tokens(data.target_vocab, predicted[k]);
    const bool right = predicted[k] == data.targets[picks[k]];
    const std::string mark = right ? (color ? "\033[92m✓\033[0m" : "✓")
                                   : (color ? "\033[91m✗\033[0m" : "✗");
    rows.push_back({in, target, guess, mark});
    w0 = std::max(w0, text_width(in));
    w1 = std::max(w1, text_width(target));
    w2 = std::max(w2, text_width(guess));
  }
  fmt::print("  {} | {} | {} |\n", padded("input", w0), padded("target", w1),
             padded("prediction", w2));
  for (const auto& r : rows)
    fmt::print("  {} | {} | {} | {}\n", padded(r[0], w0), padded(r[1], w1), padded(r[2], w2),
               r[3]);
}

// The flags that --resume takes from the checkpoint instead.
const std::vector<std::string> kFixedWhenResuming = {
    "--task",  "--data",   "--valid",     "--valid-split", "--digits",    "--reverse",
    "--max-dashes", "--size", "--seed",  "--cell",        "--hidden",      "--layers",
    "--mode",  "--embedding", "--batch-size", "--optimizer", "--lr", "--momentum",
    "--decay", "--clip", "--early-stopping", "--min-delta"};

void check_ranges(const TrainArgs& a) {
  const auto need = [](bool ok, const std::string& message) { require(ok, message); };
  need(a.valid_split >= 0 && a.valid_split < 1,
       fmt::format("--valid-split is {} (allowed: 0 <= split < 1)", a.valid_split));
  need(std::isfinite(a.lr) && a.lr > 0, fmt::format("--lr is {} (allowed: > 0)", a.lr));
  need(a.momentum >= 0 && a.momentum < 1,
       fmt::format("--momentum is {} (allowed: 0 <= momentum < 1)", a.momentum));
  need(std::isfinite(a.decay) && a.decay >= 0, fmt::format("--decay is {} (allowed: >= 0)", a.decay));
  need(std::isfinite(a.clip) && a.clip >= 0, fmt::format("--clip is {} (allowed: >= 0; 0 = off)", a.clip));
  need(std::isfinite(a.min_delta) && a.min_delta >= 0,
       fmt::format("--min-delta is {} (allowed: >= 0)", a.min_delta));
}

ModelConfig model_config(const TrainArgs& a, const LoadedData& data) {
  ModelConfig c;
  c.cell = parse_cell(a.cell);
  c.hidden_size = a.hidden;
  c.layers = a.layers;
  c.mode = parse_decoder_mode(a.mode);
  require(c.mode != DecoderMode::attention,
          "--mode attention is not implemented yet (allowed: teacher_forcing, repeat)");
  if (data.train.feature_sources()) {
    require(a.embedding == "one-hot" || !a.given("--embedding"),
            "--embedding does not apply to task progression: its inputs are real values");
    c.input = InputKind::features;
    c.source_features = data.train.source_features;
  } else if (a.embedding == "one-hot") {
    c.input = InputKind::one_hot;
    c.source_vocab_size = data.train.source_vocab.size();
  } else {
    std::size_t used = 0;
    long long n = 0;
    try {
      n = std::stoll(a.embedding, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    require(used == a.embedding.size() && n >= 1 && n <= 100000,
            "--embedding is '" + a.embedding + "' (allowed: one-hot, or a size from 1 to 100000)");
    c.input = InputKind::embedding;
    c.embedding_size = static_cast<int>(n);
    c.source_vocab_size = data.train.source_vocab.size();
  }
  c.output = OutputKind::tokens;
  c.target_vocab_size = data.train.target_vocab.size();
  c.max_target_length =
      std::max(data.train.max_target_length(), data.valid.max_target_length()) + 1;
  c.validate();
  return c;
}

std::string describe_data(const DataSpec& spec, const LoadedData& data) {
  std::string what;
  if (!spec.task.empty()) {
    what = "task " + spec.task;
    const TaskOptions& o = spec.options;
    if (spec.task == "addition" || spec.task == "subtraction")
      what += fmt::format(" ({} digits{})", o.digits, o.reverse ? ", reversed" : "");
    else if (spec.task == "pq")
      what += fmt::format(" (up to {} dashes)", o.max_dashes);
    else if (spec.task == "copy" || spec.task == "reverse")
      what += fmt::format(" (up to {} digits)", o.digits);
    else if (spec.task == "progression")
      what += fmt::format(" (length {})", o.digits);
  } else {
    what = spec.data_file;
  }
  return fmt::format("{}: {} training, {} validation examples", what, data.train.size(),
                     data.valid.size());
}

std::string describe_model(const ModelConfig& c, std::size_t parameters) {
  std::string input = c.input == InputKind::embedding ? fmt::format("embedding {}", c.embedding_size)
                                                      : to_string(c.input);
  return fmt::format("{} {} x{}, {}, input {}, {} target ids, {} parameters", to_string(c.cell),
                     c.hidden_size, c.layers, to_string(c.mode), input, c.target_vocab_size,
                     parameters);
}

bool same_vocab(const Vocabulary& a, const Vocabulary& b) { return a.symbols() == b.symbols(); }

int run_train(TrainArgs& a) {
  // ---- 1. Flags: every value and combination, before anything is read or written. ----
  check_ranges(a);
  const bool resuming = !a.resume.empty();
  if (resuming) {
    for (const auto& flag : kFixedWhenResuming)
      if (a.given(flag))
        throw Error(flag + " cannot be used with --resume: a resumed run keeps the checkpoint's "
                           "data, model and training settings (allowed with --resume: --epochs, "
                           "--out, --metrics, --device, --samples, --quiet)");
  } else {
    require(a.given("--task") != a.given("--data"),
            "give exactly one of --task and --data (or --resume to continue a run)");
    require(!(a.given("--valid") && a.given("--valid-split")),
            "give --valid or --valid-split, not both");
    require(a.given("--data") || !a.given("--valid"), "--valid goes with --data");
    if (a.given("--task")) {
      for (const char* flag : {"--digits", "--reverse", "--max-dashes"})
        if (a.given(flag)) check_task_flag(a.task, flag);
    } else {
      for (const char* flag : {"--digits", "--reverse", "--max-dashes", "--size"})
        require(!a.given(flag), std::string(flag) + " applies to --task, not to --data");
    }
    require(a.optimizer == "sgd" || !a.given("--momentum") || a.momentum == 0,
            "--momentum applies to --optimizer sgd only");
  }
  const BackendKind requested = parse_backend(a.device);

  // ---- 2. The run's settings: from the flags, or from the checkpoint when resuming. ----
  DataSpec spec;
  TrainerOptions options;
  std::unique_ptr<CheckpointData> checkpoint;
  Json data_json;
  std::string out = a.out;
  if (resuming) {
    checkpoint = std::make_unique<CheckpointData>(load_checkpoint(a.resume));
    require(checkpoint->has_optimizer,
            "--resume " + a.resume + ": the checkpoint has no optimizer state to continue from");
    data_json = data_json_of(*checkpoint);
    spec = DataSpec::from_json(data_json);
    const Json training = data_json.value("training", Json::object());
    require(training.is_object() && training.contains("batch_size"),
            "--resume " + a.resume + ": the checkpoint does not record its training settings "
                                     "(was it written by `s2s train`?)");
    options.batch_size = training.value("batch_size", 32);
    options.patience = training.value("patience", 0);
    options.min_delta = training.value("min_delta", 0.0);
    options.epochs = a.given("--epochs") ? a.epochs : training.value("epochs", a.epochs);
    data_json["training"]["epochs"] = options.epochs;
    if (out.empty()) out = a.resume;
  } else {
    if (a.given("--task")) {
      spec.task = a.task;
      TaskOptions o;
      o.digits = a.digits;
      o.reverse = a.reverse;
      o.max_dashes = a.max_dashes;
      o.size = a.size;
      o.seed = a.seed;
      spec.options = resolved_task_options(a.task, o);
    } else {
      spec.data_file = a.data;
      if (!a.valid.empty()) spec.valid_file = a.valid;
    }
    const TaskDefaults d = defaults_for(spec.task.empty() ? "file" : spec.task);
    if (!a.given("--hidden")) a.hidden = d.hidden;
    if (!a.given("--mode")) a.mode = d.mode;
    if (!a.given("--epochs")) a.epochs = d.epochs;
    if (!a.given("--batch-size")) a.batch_size = d.batch_size;
    if (!a.given("--valid-split")) a.valid_split = spec.valid_file.empty() ? d.valid_split : 0.0;
    if (!a.given("--early-stopping")) a.patience = d.patience;
    if (!a.given("--decay")) a.decay = d.decay;
    if (!a.given("--lr")) a.lr = a.optimizer == "sgd" ? 0.01 : 1e-3;
    spec.valid_split = a.valid_split;
    spec.seed = a.seed;
    options.epochs = a.epochs;
    options.batch_size = a.batch_size;
    options.patience = a.patience;
    options.min_delta = a.min_delta;
  }
  options.shuffle_seed = spec.shuffle_seed();
  // Without a validation set, greedy exact match is measured on the training data instead.
  options.train_exact_match = spec.valid_split == 0 && spec.valid_file.empty();

  // ---- 3. Outputs: checked now, so a run never fails after hours for a missing folder. ----
  if (!out.empty()) {
    check_writable_file(out, out == a.resume && !a.given("--out") ? "--resume" : "--out");
    options.checkpoint_path = out;
    options.best_checkpoint_path = best_checkpoint_path(out);
  }
  if (!a.metrics.empty()) check_writable_file(a.metrics, "--metrics");
  require_distinct_files(
      {{"--data", spec.data_file}, {"--valid", spec.valid_file},
       {"--resume", resuming && !same_file(out, a.resume) ? a.resume : std::string()},
       {"--out", out, true}, {"--out's best copy", out.empty() ? out : best_checkpoint_path(out), true},
       {"--metrics", a.metrics, true}});
  const BackendKind backend = resolve_backend(requested);

  // ---- 4. Data and model. ----
  const LoadedData data = load_training_data(spec);
  Seq2Seq model = [&] {
    if (resuming) {
      require(same_vocab(data.train.source_vocab, checkpoint->source_vocab) &&
                  same_vocab(data.train.target_vocab, checkpoint->target_vocab),
              "--resume " + a.resume + ": the data no longer gives the checkpoint's "
                                       "vocabularies (has the pair file changed?)");
      const auto recorded_train = data_json.value("train_examples", Json());
      const auto recorded_valid = data_json.value("valid_examples", Json());
      require(recorded_train == Json(data.train.size()) &&
                  recorded_valid == Json(data.valid.size()),
              fmt::format("--resume {}: the data has {} training and {} validation examples, the "
                          "checkpoint was trained on {} and {} (has the pair file changed?)",
                          a.resume, data.train.size(), data.valid.size(), recorded_train.dump(),
                          recorded_valid.dump()));
      return model_from_checkpoint(*checkpoint, backend);
    }
    const ModelConfig config = model_config(a, data);
    OptimizerConfig optimizer;
    optimizer.kind = parse_optimizer(a.optimizer);
    optimizer.learning_rate = a.lr;
    optimizer.momentum = a.momentum;
    optimizer.decay = a.decay;
    optimizer.clip_norm = a.clip;
    optimizer.validate();
    Seq2Seq m(config, a.seed, backend);
    m.set_optimizer(optimizer);
    return m;
  }();
  if (!resuming) {
    data_json = spec.to_json();
    data_json["presentation"] = data.presentation.to_json();
    data_json["train_examples"] = data.train.size();
    data_json["valid_examples"] = data.valid.size();
    data_json["training"] = {{"epochs", options.epochs},
                             {"batch_size", options.batch_size},
                             {"patience", options.patience},
                             {"min_delta", options.min_delta}};
  }
  data_json.erase("trainer");  // the trainer writes its own
  options.data_json = data_json.dump();
  const Presentation presentation = Presentation::from_json(data_json.value("presentation", Json()));

  Trainer trainer(model, data.train, data.valid, options);
  if (resuming) trainer.restore(checkpoint->training);
  const std::int64_t done = resuming ? checkpoint->training.epoch : 0;

  // ---- 5. Train. ----
  const bool interactive = ::isatty(::fileno(stdout)) == 1;
  if (!a.quiet) {
    fmt::print("data: {}\n", describe_data(spec, data));
    fmt::print("model: {}\n", describe_model(model.config(), model.parameter_count()));
    const OptimizerConfig& o = model.optimizer();
    fmt::print("optimizer: {} lr {}{}{}{}; batch {}; epochs {}{}\n", to_string(o.kind),
               o.learning_rate, o.momentum > 0 ? fmt::format(" momentum {}", o.momentum) : "",
               o.decay > 0 ? fmt::format(" decay {}", o.decay) : "",
               o.clip_norm > 0 ? fmt::format(" clip {}", o.clip_norm) : "", options.batch_size,
               options.epochs,
               options.patience > 0 ? fmt::format("; early stopping patience {} min-delta {}",
                                                  options.patience, options.min_delta)
                                    : "");
    fmt::print("device: {}\n", backend_note(requested, backend));
    if (resuming)
      fmt::print("resuming {} at epoch {} (step {})\n", a.resume, done,
                 checkpoint->training.step);
    if (!out.empty())
      fmt::print("checkpoints: {} every epoch{}\n", out,
                 data.valid.size() ? ", the best by validation loss in " +
                                         options.best_checkpoint_path
                                   : "");
    std::fflush(stdout);
  }
  if (done >= options.epochs) {
    if (!a.quiet)
      fmt::print("nothing to do: {} epochs are done already (give --epochs with a larger total "
                 "to train further)\n", done);
    return 0;
  }

  Progress progress(stdout, interactive, a.quiet, options.epochs);
  MetricsLog metrics(a.metrics, resuming);
  const SequenceData& shown = data.valid.size() ? data.valid : data.train;
  trainer.on_step([&](const StepProgress& p) { progress.step(p); });
  trainer.on_epoch([&](const EpochMetrics& m) {
    if (!a.metrics.empty()) metrics.write(m);
    progress.epoch(m);
    if (a.quiet) return;
    if (data.valid.size() && options.patience > 0 && !m.improved)
      fmt::print("validation loss did not improve by {}: patience {}/{}\n", options.min_delta,
                 trainer.state().epochs_without_improvement, options.patience);
    print_samples(model, shown, presentation, a.samples, options.shuffle_seed + m.epoch,
                  interactive);
    std::fflush(stdout);
  });
  const auto history = trainer.fit();
  if (history.empty()) {  // a resumed run that early stopping had already ended
    if (!a.quiet)
      fmt::print("nothing to do: early stopping ended this run at epoch {} (validation loss did "
                 "not improve by {} for {} epochs)\n", done, options.min_delta,
                 options.patience);
    return 0;
  }
  if (!a.quiet) {
    if (trainer.stopped_early())
      fmt::print("early stopping: validation loss did not improve by {} for {} epochs\n",
                 options.min_delta, options.patience);
    const EpochMetrics& last = history.back();
    fmt::print("done: epoch {} - {}\n", last.epoch, Progress::metrics_text(last));
    if (!out.empty()) {
      fmt::print("saved {}\n", out);
      if (std::isfinite(trainer.state().best_valid_loss))
        fmt::print("best validation loss {:.4f}: {}\n", trainer.state().best_valid_loss,
                   options.best_checkpoint_path);
    }
  }
  return 0;
}
}  // namespace

Subcommand add_train_command(CLI::App& parent) {
  auto args = std::make_shared<TrainArgs>();
  TrainArgs& a = *args;
  CLI::App* app = parent.add_subcommand("train", "Train a model on a built-in task or a pair file");
  app->footer(kDefaultsTable);
  auto add = [&](CLI::Option* o) {
    a.options[o->get_name()] = o;
    return o;
  };
  const std::string task_list = joined(tool_task_names(), "|");

  // Data.
  add(app->add_option("--task", a.task, "Built-in task: " + task_list)
          ->check(CLI::IsMember(tool_task_names()))
          ->group("Data"));
  add(app->add_option("--data", a.data, "Training pairs: UTF-8 lines input<TAB>target")
          ->group("Data"));
  add(app->add_option("--valid", a.valid,
                      "Validation pairs (same format; instead of --valid-split)")
          ->group("Data"));
  add(app->add_option("--valid-split", a.valid_split,
                      "Fraction held out for validation after one seeded shuffle, 0 <= split < 1 "
                      "(default: per task, 0.1; digits-words and progression 0)")
          ->group("Data"));
  add(app->add_option("--digits", a.digits,
                      "addition/subtraction: digits per operand (default 3/5); copy/reverse: "
                      "longest string (default 8); progression: sequence length (default 10)")
          ->check(CLI::Range(1, 100000))
          ->group("Data"));
  add(app->add_flag("--reverse", a.reverse,
                    "addition/subtraction: reverse the query, as Keras' REVERSE (default: off)")
          ->group("Data"));
  add(app->add_option("--max-dashes", a.max_dashes, "pq: dashes per operand at most (default 10)")
          ->check(CLI::Range(1, 100000))
          ->group("Data"));
  add(app->add_option("--size", a.size,
                      "Number of examples (default: per task; addition/subtraction/pq 50000 or "
                      "all there are, digits-words 9, copy/reverse 10000, progression 50)")
          ->check(CLI::Range(1, 100000000))
          ->group("Data"));
  add(app->add_option("--seed", a.seed,
                      "Seed of the data, initialisation, validation split and shuffles")
          ->capture_default_str()
          ->group("Data"));

  // Model.
  add(app->add_option("--cell", a.cell, "Recurrent cell: lstm|gru|rnn")
          ->check(CLI::IsMember({"lstm", "gru", "rnn"}))
          ->capture_default_str()
          ->group("Model"));
  add(app->add_option("--hidden", a.hidden, "Hidden size (default: per task, see below)")
          ->check(CLI::Range(1, 65536))
          ->group("Model"));
  add(app->add_option("--layers", a.layers, "Stacked layers in encoder and decoder")
          ->check(CLI::Range(1, 64))
          ->capture_default_str()
          ->group("Model"));
  add(app->add_option("--mode", a.mode,
                      "Decoder: teacher_forcing|repeat (default: per task, see below)")
          ->check(CLI::IsMember({"teacher_forcing", "repeat"}))
          ->group("Model"));
  add(app->add_option("--embedding", a.embedding,
                      "Token inputs: one-hot, or an embedding of size N")
          ->capture_default_str()
          ->group("Model"));

  // Training.
  add(app->add_option("--epochs", a.epochs,
                      "Epochs in total; a resumed run counts the epochs done (default: per task; "
                      "with --resume the checkpoint's)")
          ->check(CLI::Range(1, 10000000))
          ->group("Training"));
  add(app->add_option("--batch-size", a.batch_size, "Examples per step (default: per task)")
          ->check(CLI::Range(1, 1000000))
          ->group("Training"));
  add(app->add_option("--optimizer", a.optimizer, "adam|sgd (Keras' defaults)")
          ->check(CLI::IsMember({"adam", "sgd"}))
          ->capture_default_str()
          ->group("Training"));
  add(app->add_option("--lr", a.lr, "Learning rate (default: adam 0.001, sgd 0.01)")
          ->group("Training"));
  add(app->add_option("--momentum", a.momentum, "SGD momentum, 0 <= m < 1")
          ->capture_default_str()
          ->group("Training"));
  add(app->add_option("--decay", a.decay,
                      "Inverse time decay: lr / (1 + decay * step) (default: 0; progression 1e-5)")
          ->group("Training"));
  add(app->add_option("--clip", a.clip, "Clip gradients to this global norm (0 = off)")
          ->capture_default_str()
          ->group("Training"));
  add(app->add_option("--early-stopping", a.patience,
                      "Patience: stop after this many epochs in a row whose validation loss "
                      "improved on the previous epoch's by less than --min-delta; 0 = off "
                      "(default: per task)")
          ->check(CLI::Range(0, 1000000))
          ->group("Training"));
  add(app->add_option("--min-delta", a.min_delta, "Smallest validation loss improvement that counts")
          ->capture_default_str()
          ->group("Training"));
  add(app->add_option("--device", a.device, "auto|cpu|cuda (auto: cuda when a GPU is usable)")
          ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
          ->capture_default_str()
          ->group("Training"));

  // Output.
  add(app->add_option("--out", a.out,
                      "Checkpoint written (atomically) after every epoch, e.g. model.safetensors; "
                      "the best epoch by validation loss also goes to model.best.safetensors "
                      "(default: none; with --resume the resumed file)")
          ->group("Output"));
  add(app->add_option("--resume", a.resume,
                      "Continue a run from its checkpoint exactly: same data, shuffles, model and "
                      "optimizer")
          ->group("Output"));
  add(app->add_option("--metrics", a.metrics,
                      "JSON lines, one per epoch: epoch, loss, accuracy, exact_match (without a "
                      "validation set), val_loss, val_accuracy, val_exact_match, seconds, "
                      "examples_per_second, lr (appended to when resuming)")
          ->group("Output"));
  add(app->add_option("--samples", a.samples,
                      "Validation examples shown with predictions after each epoch")
          ->check(CLI::Range(0, 1000))
          ->capture_default_str()
          ->group("Output"));
  add(app->add_flag("--quiet,-q", a.quiet, "Print nothing but errors")->group("Output"));

  return {app, [args] { return run_train(*args); }};
}

}  // namespace s2s::cli
