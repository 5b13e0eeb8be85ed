// `s2s train`: data (task or pair files), model, optimizer and training flags; validates them
// all, checks the output paths, then runs the Trainer with a progress bar, metrics log,
// validation samples and checkpoints; --resume continues a run exactly.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/curriculum.h"
#include "cli/data_spec.h"
#include "cli/output_files.h"
#include "cli/path_checks.h"
#include "cli/progress.h"
#include "cli/ranks.h"
#include "cli/warm_start.h"
#include "s2s/backend.h"
#include "s2s/batching.h"
#include "s2s/checkpoint.h"
#include "s2s/error.h"
#include "s2s/random.h"
#include "s2s/trainer.h"

namespace s2s::cli {

namespace {
using Json = nlohmann::json;

// Validation batches: at most kEvalBatch examples and kEvalTokens steps (source + target).
constexpr int kEvalBatch = 256;
constexpr int kEvalTokens = 256 * 512;

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

TaskDefaults defaults_for(const std::string& task, TaskForm form) {
  if (task == "digits-words") return {32, "teacher_forcing", 300, 2, 0.0, 0, 0.0};       // 000
  // pq as natural-length sequences: teacher forcing learns it (measured, docs/RESULTS.md
  // section 9), the seed's repeat model does not; batch 32 as the measurements.
  if (task == "pq" && form == TaskForm::natural)
    return {128, "teacher_forcing", 10, 32, 0.1, 3, 0.0};
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
    "  addition, subtraction     128    repeat           50     128   0.1    3 (min-delta 0.001)\n"
    "  pq --padded (seed 001)                                                 \n"
    "  pq (natural form)         128    teacher_forcing  10     32    0.1    3 (min-delta 0.001)\n"
    "  progression (seed 002)    200    teacher_forcing  150    1     0      off; --decay 1e-5;\n"
    "                                                                        real-valued inputs\n"
    "  copy, reverse             128    teacher_forcing  20     64    0.1    3 (min-delta 0.001)\n"
    "  --data FILE               128    teacher_forcing  20     64    0.1    off\n"
    "progression: the seed's x -> 3x mod 50; --digits is the sequence length (default 10),\n"
    "--size the number of sequences (default 50), inputs are x/50, targets 50 classes.\n"
    "Presentation: pq is natural-length by default (\"--p---\" -> \"q-----\", an end token\n"
    "closes the answer, the loss is masked beyond it); --padded writes it as the seed does\n"
    "(space-padded to 2N+1). Addition and subtraction are padded by default (--presentation\n"
    "natural for the other form). Variable lengths train in length buckets (--no-bucket: off).\n"
    "Curriculum: --curriculum 100,300,1000 trains pq at 100, then 300, then 1000 dashes, each\n"
    "stage starting from the previous one's weights with a fresh optimizer, moving on when\n"
    "validation exact match reaches --curriculum-target or the stage's budget\n"
    "(--stage-epochs, --stage-steps) runs out. --init MODEL warm-starts from a compatible\n"
    "checkpoint (same cell, sizes, mode, vocabularies; any max lengths).\n"
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
  std::string attention = "none";
  bool input_feed = false;
  bool bidirectional = false;
  std::string bridge = "sum";
  double dropout = 0;

  int epochs = 20, batch_size = 64;
  std::string optimizer = "adam";
  double lr = 1e-3, momentum = 0, decay = 0, clip = 0;
  int patience = 0;
  double min_delta = 0.001;
  std::string device = "auto";
  std::string precision = "fp32";

  std::string out, resume, metrics;
  bool quiet = false;
  int samples = 5;

  std::string presentation;  // natural|padded; empty = the task's default
  bool padded = false;
  bool no_bucket = false;
  std::string init;
  std::string curriculum;
  double curriculum_target = 0.99;
  int stage_epochs = 0;
  long long stage_steps = 0;
  long long eval_every = 0;
  int eval_examples = 0;
  double target_exact_match = 0;

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
    "--mode",  "--embedding", "--attention", "--input-feed", "--bidirectional", "--bridge",
    "--dropout", "--batch-size", "--optimizer", "--lr", "--momentum",
    "--decay", "--clip", "--early-stopping", "--min-delta", "--presentation", "--padded",
    "--no-bucket", "--init", "--curriculum", "--curriculum-target", "--stage-epochs",
    "--stage-steps", "--eval-every", "--eval-examples", "--target-exact-match"};

void check_ranges(const TrainArgs& a) {
  const auto need = [](bool ok, const std::string& message) { require(ok, message); };
  need(a.valid_split >= 0 && a.valid_split < 1,
       fmt::format("--valid-split is {} (allowed: 0 <= split < 1)", a.valid_split));
  need(std::isfinite(a.lr) && a.lr > 0, fmt::format("--lr is {} (allowed: > 0)", a.lr));
  need(a.momentum >= 0 && a.momentum < 1,
       fmt::format("--momentum is {} (allowed: 0 <= momentum < 1)", a.momentum));
  need(std::isfinite(a.decay) && a.decay >= 0, fmt::format("--decay is {} (allowed: >= 0)", a.decay));
  need(std::isfinite(a.clip) && a.clip >= 0, fmt::format("--clip is {} (allowed: >= 0; 0 = off)", a.clip));
  need(a.dropout >= 0 && a.dropout < 1,
       fmt::format("--dropout is {} (allowed: 0 <= p < 1; 0 = off)", a.dropout));
  need(a.bidirectional || !a.given("--bridge"),
       "--bridge applies to a bidirectional encoder only (add --bidirectional)");
  need(std::isfinite(a.min_delta) && a.min_delta >= 0,
       fmt::format("--min-delta is {} (allowed: >= 0)", a.min_delta));
  need(std::isfinite(a.curriculum_target) && a.curriculum_target > 0 && a.curriculum_target <= 1,
       fmt::format("--curriculum-target is {} (allowed: 0 < target <= 1)", a.curriculum_target));
  need(std::isfinite(a.target_exact_match) && a.target_exact_match >= 0 &&
           a.target_exact_match <= 1,
       fmt::format("--target-exact-match is {} (allowed: 0 to 1; 0 = off)", a.target_exact_match));
}

// With --init, the model flags not given take the checkpoint's values, so that
// `--init pq300.safetensors` is enough to continue its architecture.
void take_model_flags_from(TrainArgs& a, const CheckpointData& c) {
  if (!a.given("--cell")) a.cell = to_string(c.config.cell);
  if (!a.given("--hidden")) a.hidden = c.config.hidden_size;
  if (!a.given("--layers")) a.layers = c.config.layers;
  if (!a.given("--mode")) a.mode = to_string(c.config.mode);
  if (!a.given("--attention")) a.attention = to_string(c.config.attention);
  if (!a.given("--input-feed")) a.input_feed = c.config.input_feed;
  if (!a.given("--bidirectional")) a.bidirectional = c.config.bidirectional;
  if (!a.given("--bridge")) a.bridge = to_string(c.config.bridge);
  if (!a.given("--dropout")) a.dropout = c.config.dropout;
  if (!a.given("--embedding"))
    a.embedding = c.config.input == InputKind::embedding ? std::to_string(c.config.embedding_size)
                                                         : std::string("one-hot");
}

ModelConfig model_config(const TrainArgs& a, const LoadedData& data) {
  ModelConfig c;
  c.cell = parse_cell(a.cell);
  c.hidden_size = a.hidden;
  c.layers = a.layers;
  c.mode = parse_decoder_mode(a.mode);
  try {
    c.attention = parse_attention(a.attention);
  } catch (const Error& e) {
    throw Error(std::string("--attention: ") + e.what());
  }
  c.input_feed = a.input_feed;
  if (c.attention != AttentionKind::none && c.mode == DecoderMode::repeat)
    throw Error("--attention " + a.attention + " needs --mode teacher_forcing (a repeat decoder "
                "reads only the encoder's final state; allowed with --mode repeat: --attention "
                "none)");
  require(!c.input_feed || c.attention != AttentionKind::none,
          "--input-feed feeds the attentional vector back, so it needs --attention dot, general "
          "or additive");
  c.bidirectional = a.bidirectional;
  try {
    c.bridge = parse_bridge(a.bridge);
  } catch (const Error& e) {
    throw Error(std::string("--bridge: ") + e.what());
  }
  c.dropout = a.dropout;
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
      what += fmt::format(" ({} digits{}, {})", o.digits, o.reverse ? ", reversed" : "",
                          to_string(o.form));
    else if (spec.task == "pq")
      what += fmt::format(" (up to {} dashes, {})", o.max_dashes, to_string(o.form));
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
  std::string extras;
  if (c.attention != AttentionKind::none)
    extras += fmt::format(", attention {}{}", to_string(c.attention),
                          c.input_feed ? " with input feeding" : "");
  if (c.bidirectional)
    extras += fmt::format(", bidirectional encoder (bridge {})", to_string(c.bridge));
  if (c.dropout > 0) extras += fmt::format(", dropout {}", c.dropout);
  return fmt::format("{} {} x{}, {}, input {}{}, {} target ids, {} parameters", to_string(c.cell),
                     c.hidden_size, c.layers, to_string(c.mode), input, extras,
                     c.target_vocab_size, parameters);
}

bool same_vocab(const Vocabulary& a, const Vocabulary& b) { return a.symbols() == b.symbols(); }

// The trainer's knobs that a resumed run takes from the checkpoint, as recorded in
// data_json["training"] (absent in checkpoints from before bucketing: off).
void read_training_record(const Json& training, TrainerOptions& options) {
  options.bucket = training.value("bucket", false);
  options.eval_every = training.value("eval_every", std::int64_t{0});
  options.eval_examples = training.value("eval_examples", std::size_t{0});
  options.target_exact_match = training.value("target_exact_match", 0.0);
}

Json training_record(const TrainerOptions& options) {
  return {{"epochs", options.epochs},
          {"batch_size", options.batch_size},
          {"patience", options.patience},
          {"min_delta", options.min_delta},
          {"bucket", options.bucket},
          {"eval_every", options.eval_every},
          {"eval_examples", options.eval_examples},
          {"target_exact_match", options.target_exact_match}};
}

void check_flags(const TrainArgs& a) {
  check_ranges(a);
  const bool resuming = !a.resume.empty();
  if (resuming) {
    for (const auto& flag : kFixedWhenResuming)
      if (a.given(flag))
        throw Error(flag + " cannot be used with --resume: a resumed run keeps the checkpoint's "
                           "data, model and training settings (allowed with --resume: --epochs, "
                           "--out, --metrics, --device, --precision, --samples, --quiet)");
    return;
  }
  require(a.given("--task") != a.given("--data"),
          "give exactly one of --task and --data (or --resume to continue a run)");
  require(!(a.given("--valid") && a.given("--valid-split")),
          "give --valid or --valid-split, not both");
  require(a.given("--data") || !a.given("--valid"), "--valid goes with --data");
  if (a.given("--task")) {
    for (const char* flag : {"--digits", "--reverse", "--max-dashes"})
      if (a.given(flag)) check_task_flag(a.task, flag);
  } else {
    for (const char* flag : {"--digits", "--reverse", "--max-dashes", "--size", "--presentation",
                             "--padded", "--curriculum"})
      require(!a.given(flag), std::string(flag) + " applies to --task, not to --data");
  }
  require(!(a.given("--padded") && a.given("--presentation") && a.presentation != "padded"),
          "--padded and --presentation " + a.presentation + " contradict each other");
  require(a.optimizer == "sgd" || !a.given("--momentum") || a.momentum == 0,
          "--momentum applies to --optimizer sgd only");
  if (a.given("--curriculum")) {
    const std::string knob = length_knob(a.task);
    parse_curriculum(a.curriculum);
    require(!a.given(knob), knob + " cannot be used with --curriculum: the curriculum sets it "
                                   "for each stage");
    require(!a.given("--target-exact-match"),
            "--target-exact-match is for single runs; with --curriculum give "
            "--curriculum-target");
  } else {
    for (const char* flag : {"--curriculum-target", "--stage-epochs", "--stage-steps"})
      require(!a.given(flag), std::string(flag) + " goes with --curriculum");
  }
}

int run_train_rank(TrainArgs& a, TrainingRanks& ranks);

// Under mpirun every rank runs the same run_train_rank; one rank's failure ends them all.
int run_train(TrainArgs& a) {
  TrainingRanks ranks;
  return ranks.run([&] { return run_train_rank(a, ranks); });
}

int run_train_rank(TrainArgs& a, TrainingRanks& ranks) {
  // ---- 1. Flags: every value and combination, before anything is read or written. ----
  check_flags(a);
  const bool resuming = !a.resume.empty();
  const BackendKind requested = parse_backend(a.device);
  const Precision precision = parse_precision(a.precision);
  const std::vector<int> stages =
      a.given("--curriculum") ? parse_curriculum(a.curriculum) : std::vector<int>{};

  // ---- 2. The run's settings: from the flags, or from the checkpoint when resuming. ----
  DataSpec spec;
  TrainerOptions options;
  std::unique_ptr<CheckpointData> checkpoint, init;
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
    read_training_record(training, options);
    options.epochs = a.given("--epochs") ? a.epochs : training.value("epochs", a.epochs);
    data_json["training"]["epochs"] = options.epochs;
    if (out.empty()) out = a.resume;
  } else {
    TaskForm form = TaskForm::automatic;
    if (a.given("--task")) {
      spec.task = a.task;
      TaskOptions o;
      o.digits = a.digits;
      o.reverse = a.reverse;
      o.max_dashes = a.max_dashes;
      o.size = a.size;
      o.seed = a.seed;
      if (a.given("--presentation")) o.form = parse_task_form(a.presentation);
      if (a.padded) o.form = TaskForm::padded;
      spec.options = stages.empty()
                         ? resolved_task_options(a.task, o)
                         : stage_options(a.task, o, stages.front(), a.given("--size"));
      form = spec.options.form;
    } else {
      spec.data_file = a.data;
      if (!a.valid.empty()) spec.valid_file = a.valid;
    }
    if (!a.init.empty()) {
      init = std::make_unique<CheckpointData>(load_checkpoint(a.init));
      take_model_flags_from(a, *init);
    }
    const TaskDefaults d = defaults_for(spec.task.empty() ? "file" : spec.task, form);
    if (!a.given("--hidden") && a.init.empty()) a.hidden = d.hidden;
    // Attention needs the teacher-forcing decoder: asking for it picks that mode where the
    // task's default would be repeat (an explicit --mode repeat is refused).
    if (!a.given("--mode") && a.init.empty())
      a.mode = a.attention != "none" ? std::string("teacher_forcing") : d.mode;
    if (!a.given("--epochs")) a.epochs = d.epochs;
    if (!a.given("--batch-size")) a.batch_size = d.batch_size;
    if (!a.given("--valid-split")) a.valid_split = spec.valid_file.empty() ? d.valid_split : 0.0;
    if (!a.given("--early-stopping")) a.patience = d.patience;
    if (!a.given("--decay")) a.decay = d.decay;
    if (!a.given("--lr")) a.lr = a.optimizer == "sgd" ? 0.01 : 1e-3;
    spec.valid_split = a.valid_split;
    spec.seed = a.seed;
    options.epochs = stages.empty() || !a.given("--stage-epochs") ? a.epochs : a.stage_epochs;
    options.batch_size = a.batch_size;
    options.patience = a.patience;
    options.min_delta = a.min_delta;
    options.eval_every = a.eval_every;
    options.eval_examples = static_cast<std::size_t>(a.eval_examples);
    options.target_exact_match = stages.empty() ? a.target_exact_match : a.curriculum_target;
    options.max_steps = stages.empty() ? 0 : a.stage_steps;
  }
  options.shuffle_seed = spec.shuffle_seed();
  // Without a validation set, greedy exact match is measured on the training data instead.
  options.train_exact_match = spec.valid_split == 0 && spec.valid_file.empty();

  if (ranks.world().rank() != 0) {  // data parallel: rank 0 alone prints and writes
    a.quiet = true;
    out.clear();
    a.metrics.clear();
  }

  // ---- 3. Outputs: checked now, so a run never fails after hours for a missing folder. ----
  if (!out.empty()) {
    check_writable_file(out, out == a.resume && !a.given("--out") ? "--resume" : "--out");
    options.checkpoint_path = out;
    options.best_checkpoint_path = best_checkpoint_path(out);
  }
  if (!a.metrics.empty()) check_writable_file(a.metrics, "--metrics");
  require_distinct_files(
      {{"--data", spec.data_file}, {"--valid", spec.valid_file}, {"--init", a.init},
       {"--resume", resuming && !same_file(out, a.resume) ? a.resume : std::string()},
       {"--out", out, true}, {"--out's best copy", out.empty() ? out : best_checkpoint_path(out), true},
       {"--metrics", a.metrics, true}});
  const BackendKind backend = resolve_backend(requested);
  const Communicator& comm = ranks.for_backend(backend);  // before the model: picks the rank's GPU
  const bool interactive = ::isatty(::fileno(stdout)) == 1;
  MetricsLog metrics(a.metrics, resuming);

  // ---- 4. Stages: one, or the curriculum's; each one's data, model and training. ----
  const std::size_t stage_count = std::max<std::size_t>(1, stages.size());
  std::unique_ptr<CheckpointData> previous;  // the last stage's weights and vocabularies
  for (std::size_t k = 0; k < stage_count; ++k) {
    if (!stages.empty()) {
      spec.options = stage_options(spec.task, spec.options, stages[k], a.given("--size"));
      metrics.set_context({{"stage", k + 1}, {"stage_length", stages[k]}});
    }
    const LoadedData data = load_training_data(spec);
    // Buckets whenever lengths vary; equal lengths keep seed 001's plain shuffle exactly.
    if (!resuming) options.bucket = !a.no_bucket && lengths_vary(data.train);
    // Validation batches of at most kEvalTokens source + target steps (256 examples of up to
    // 256 steps each): pq's 2,002-step answers validate 32 at a time, so validation needs no
    // more memory than a training batch of 32 (the caches grow with batch x steps).
    const int longest = std::max(data.train.max_source_length(), data.train.max_target_length()) +
                        1;
    options.eval_batch_size =
        std::max(1, std::min(kEvalBatch, kEvalTokens / std::max(1, 2 * longest)));
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
                fmt::format("--resume {}: the data has {} training and {} validation examples, "
                            "the checkpoint was trained on {} and {} (has the pair file "
                            "changed?)",
                            a.resume, data.train.size(), data.valid.size(), recorded_train.dump(),
                            recorded_valid.dump()));
        Seq2Seq resumed = model_from_checkpoint(*checkpoint, backend, precision);
        // Dropout masks come from (seed, step): the seed the run was started with.
        resumed.set_dropout_seed(spec.seed);
        return resumed;
      }
      const ModelConfig config = model_config(a, data);
      OptimizerConfig optimizer;
      optimizer.kind = parse_optimizer(a.optimizer);
      optimizer.learning_rate = a.lr;
      optimizer.momentum = a.momentum;
      optimizer.decay = a.decay;
      optimizer.clip_norm = a.clip;
      optimizer.validate();
      Seq2Seq m(config, a.seed, backend, precision);
      // Warm start: the weights of --init (first stage) or of the stage before; the optimizer
      // starts fresh either way.
      const CheckpointData* from = previous ? previous.get() : init.get();
      if (from) {
        check_compatible(*from, config, data.train.source_vocab, data.train.target_vocab,
                         previous ? fmt::format("curriculum stage {}", k + 1) : "--init " + a.init);
        m.set_parameters(from->parameters);
      }
      m.set_optimizer(optimizer);
      return m;
    }();
    if (!resuming) {
      data_json = spec.to_json();
      data_json["presentation"] = data.presentation.to_json();
      data_json["train_examples"] = data.train.size();
      data_json["valid_examples"] = data.valid.size();
      data_json["training"] = training_record(options);
      if (!a.init.empty() && k == 0) data_json["init"] = a.init;
      if (!stages.empty())
        data_json["curriculum"] = {{"stages", stages}, {"stage", k + 1},
                                   {"target", options.target_exact_match}};
    }
    data_json.erase("trainer");  // the trainer writes its own
    options.data_json = data_json.dump();
    const Presentation presentation =
        Presentation::from_json(data_json.value("presentation", Json()));

    Trainer trainer(model, data.train, data.valid, options);
    trainer.set_communicator(comm);
    if (resuming) trainer.restore(checkpoint->training);
    const std::int64_t done = resuming ? checkpoint->training.epoch : 0;

    // ---- 5. Train. ----
    if (!a.quiet) {
      if (!stages.empty())
        fmt::print("{}stage {}/{}: {} {}\n", k ? "\n" : "", k + 1, stages.size(),
                   length_knob(spec.task), stages[k]);
      fmt::print("data: {}\n", describe_data(spec, data));
      fmt::print("model: {}{}\n", describe_model(model.config(), model.parameter_count()),
                 k > 0 ? ", weights from the stage before"
                       : (!a.init.empty() ? ", weights from " + a.init : ""));
      const OptimizerConfig& o = model.optimizer();
      fmt::print("optimizer: {} lr {}{}{}{}; batch {}{}; epochs {}{}{}\n", to_string(o.kind),
                 o.learning_rate, o.momentum > 0 ? fmt::format(" momentum {}", o.momentum) : "",
                 o.decay > 0 ? fmt::format(" decay {}", o.decay) : "",
                 o.clip_norm > 0 ? fmt::format(" clip {}", o.clip_norm) : "",
                 options.batch_size, options.bucket ? " (length buckets)" : "", options.epochs,
                 options.max_steps > 0 ? fmt::format(" or {} steps", options.max_steps) : "",
                 options.patience > 0
                     ? fmt::format("; early stopping patience {} min-delta {}", options.patience,
                                   options.min_delta)
                     : "");
      if (options.target_exact_match > 0)
        fmt::print("stops at validation exact match {}{}\n", options.target_exact_match,
                   options.eval_every > 0
                       ? fmt::format(" (checked every {} steps{})", options.eval_every,
                                     options.eval_examples > 0
                                         ? fmt::format(" on {} examples", options.eval_examples)
                                         : "")
                       : "");
      fmt::print("device: {}\n", backend_note(requested, backend));
      if (comm.size() > 1)
        fmt::print("data parallel: {}; {} examples per rank and step\n", comm.description(),
                   options.batch_size / comm.size() + (options.batch_size % comm.size() ? 1 : 0));
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
        fmt::print("nothing to do: {} epochs are done already (give --epochs with a larger "
                   "total to train further)\n", done);
      return 0;
    }

    Progress progress(stdout, interactive, a.quiet, options.epochs);
    const SequenceData& shown = data.valid.size() ? data.valid : data.train;
    trainer.on_step([&](const StepProgress& p) { progress.step(p); });
    trainer.on_eval([&](const StepEval& e) {
      metrics.write(e);
      if (!a.quiet && !interactive)
        fmt::print("step {}: val_loss: {:.4f} - val_accuracy: {:.4f} - val_exact_match: {:.4f} "
                   "({} examples)\n", e.step, e.val_loss, e.val_accuracy, e.val_exact_match,
                   e.examples);
      std::fflush(stdout);
    });
    trainer.on_epoch([&](const EpochMetrics& m) {
      metrics.write(m);
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
        fmt::print("nothing to do: early stopping ended this run at epoch {} (validation loss "
                   "did not improve by {} for {} epochs)\n", done, options.min_delta,
                   options.patience);
      return 0;
    }
    if (!a.quiet) {
      if (trainer.reached_target())
        fmt::print("reached validation exact match {} at step {}\n", options.target_exact_match,
                   model.optimizer_step());
      else if (trainer.stopped_early())
        fmt::print("early stopping: validation loss did not improve by {} for {} epochs\n",
                   options.min_delta, options.patience);
      else if (options.target_exact_match > 0 && !stages.empty())
        fmt::print("stage budget spent before exact match {} (best {:.4f}); moving on\n",
                   options.target_exact_match, trainer.best_exact_match());
      const EpochMetrics& last = history.back();
      fmt::print("done: epoch {} - {}\n", last.epoch, Progress::metrics_text(last));
      if (!out.empty()) {
        fmt::print("saved {}\n", out);
        if (std::isfinite(trainer.state().best_valid_loss))
          fmt::print("best validation loss {:.4f}: {}\n", trainer.state().best_valid_loss,
                     options.best_checkpoint_path);
      }
    }
    if (k + 1 < stage_count)
      previous = std::make_unique<CheckpointData>(checkpoint_of(
          model, data.train.source_vocab, data.train.target_vocab, trainer.state()));
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
  add(app->add_option("--presentation", a.presentation,
                      "natural|padded: pairs at their own lengths (an end token closes each "
                      "answer), or space-padded as seed 001 writes them (default: pq natural, "
                      "addition/subtraction padded; other tasks have no padded form)")
          ->check(CLI::IsMember({"natural", "padded"}))
          ->group("Data"));
  add(app->add_flag("--padded", a.padded, "Same as --presentation padded (the seed's form)")
          ->group("Data"));
  add(app->add_option("--curriculum", a.curriculum,
                      "Length stages, strictly increasing, e.g. 100,300,1000 (pq: --max-dashes; "
                      "addition, subtraction, copy, reverse: --digits); each stage starts from "
                      "the previous one's weights with a fresh optimizer")
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
  add(app->add_option("--attention", a.attention,
                      "Attention over the encoder's outputs: none|dot|general|additive (Luong "
                      "dot and general, Bahdanau additive; teacher-forcing decoder)")
          ->capture_default_str()
          ->group("Model"));
  add(app->add_flag("--input-feed", a.input_feed,
                    "Input feeding: the decoder's input also holds the previous step's "
                    "attentional vector (needs --attention)")
          ->group("Model"));
  add(app->add_flag("--bidirectional", a.bidirectional,
                    "Bidirectional encoder (PyTorch's bidirectional=True): a reverse direction "
                    "per layer; the decoder starts from both through --bridge")
          ->group("Model"));
  add(app->add_option("--bridge", a.bridge,
                      "How a bidirectional encoder's two final states start the decoder: sum "
                      "(added) or linear (a learned map of both); docs/CHECKPOINT.md")
          ->capture_default_str()
          ->group("Model"));
  add(app->add_option("--dropout", a.dropout,
                      "Dropout probability between stacked layers and before the output layer, "
                      "training only (0 = off)")
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
  add(app->add_flag("--no-bucket", a.no_bucket,
                    "Plain shuffled batches even when lengths vary (default: length buckets, "
                    "so that no step computes on padding)")
          ->group("Training"));
  add(app->add_option("--init", a.init,
                      "Warm start: the weights of this checkpoint (same cell, sizes, mode and "
                      "vocabularies; max lengths may differ), a fresh optimizer; model flags not "
                      "given are taken from it")
          ->group("Training"));
  add(app->add_option("--curriculum-target", a.curriculum_target,
                      "A stage ends when validation exact match reaches this")
          ->capture_default_str()
          ->group("Training"));
  add(app->add_option("--stage-epochs", a.stage_epochs,
                      "Epochs at most per curriculum stage (default: --epochs)")
          ->check(CLI::Range(1, 10000000))
          ->group("Training"));
  add(app->add_option("--stage-steps", a.stage_steps,
                      "Optimizer steps at most per curriculum stage (default: no limit)")
          ->check(CLI::Range(1LL, 1000000000LL))
          ->group("Training"));
  add(app->add_option("--target-exact-match", a.target_exact_match,
                      "Stop when validation exact match reaches this (0 = off)")
          ->group("Training"));
  add(app->add_option("--eval-every", a.eval_every,
                      "Also validate every this many steps inside epochs: step records in "
                      "--metrics, and the targets are checked there (0 = epoch ends only)")
          ->check(CLI::Range(0LL, 1000000000LL))
          ->group("Training"));
  add(app->add_option("--eval-examples", a.eval_examples,
                      "Validate on the first N validation examples only (a fixed random sample: "
                      "the split is shuffled), at epoch ends and --eval-every (0 = all)")
          ->check(CLI::Range(0, 100000000))
          ->group("Training"));
  add(app->add_option("--device", a.device, "auto|cpu|cuda (auto: cuda when a GPU is usable)")
          ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
          ->capture_default_str()
          ->group("Training"));
  add(app->add_option("--precision", a.precision,
                      "fp32|tf32: tf32 lets CUDA GEMMs use TF32 tensor cores (faster, not exact "
                      "float32); the CPU computes exact float32 either way")
          ->check(CLI::IsMember({"fp32", "tf32"}))
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
                      "examples_per_second, lr, step, elapsed; one per --eval-every validation "
                      "(\"kind\": \"step\"); with --curriculum each names its stage "
                      "(appended to when resuming)")
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
