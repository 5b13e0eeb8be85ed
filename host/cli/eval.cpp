// `s2s eval`: a checkpoint's loss, token accuracy and exact-match accuracy on a task's examples
// or a pair file, with a table by target length; with --beam-size, beam search's exact match too.
#include <algorithm>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/data_spec.h"
#include "s2s/checkpoint.h"
#include "s2s/decoding.h"
#include "s2s/error.h"
#include "s2s/trainer.h"

namespace s2s::cli {

namespace {
constexpr int kDefaultEvalSize = 1000;

// Outputs of beam search (its best per example) equal to their targets.
std::int64_t beam_exact(Seq2Seq& model, const SequenceData& data, const DecodeOptions& options,
                        int batch_size) {
  std::vector<std::size_t> order(data.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Each example decodes beam_size rows: batches shrink to keep the same number of rows.
  const auto per_batch = static_cast<std::size_t>(std::max(1, batch_size / options.beam_size));
  std::int64_t exact = 0;
  for (std::size_t begin = 0; begin < order.size(); begin += per_batch) {
    const std::size_t end = std::min(order.size(), begin + per_batch);
    const auto found = beam_search(model, make_batch(data, order, begin, end), options);
    for (std::size_t k = 0; k < found.size(); ++k)
      exact += !found[k].empty() && found[k][0].tokens == data.targets[begin + k];
  }
  return exact;
}

struct EvalArgs {
  std::string model, task, data, device = "auto", precision = "fp32";
  int digits = 0, max_dashes = 0, size = 0, batch_size = 256;
  bool reverse = false;
  bool held_out = false;
  std::uint64_t seed = 0;
  DecodeOptions beam;
  CLI::Option *task_opt = nullptr, *data_opt = nullptr, *digits_opt = nullptr,
              *reverse_opt = nullptr, *dashes_opt = nullptr, *size_opt = nullptr,
              *seed_opt = nullptr;
};

int run_eval(EvalArgs& a) {
  a.beam.validate();
  require((a.task_opt->count() > 0) + (a.data_opt->count() > 0) + (a.held_out ? 1 : 0) == 1,
          "give exactly one of --task, --data and --held-out");
  if (a.data_opt->count())
    for (CLI::Option* o : {a.digits_opt, a.reverse_opt, a.dashes_opt, a.size_opt, a.seed_opt})
      require(o->count() == 0, o->get_name() + " applies to --task, not to --data");
  const BackendKind backend = resolve_backend(parse_backend(a.device));
  const Precision precision = parse_precision(a.precision);
  const CheckpointData checkpoint = load_checkpoint(a.model);
  require(checkpoint.config.output == OutputKind::tokens,
          a.model + ": eval needs a model with token outputs");
  const auto data_json = data_json_of(checkpoint);

  SequenceData data;
  std::string what;
  if (a.held_out) {
    // The validation split the model was trained with: the same generation or files, the same
    // seeded split (the last curriculum stage's, for a curriculum run).
    require(data_json.contains("task") || data_json.contains("data"),
            a.model + ": --held-out needs a checkpoint written by `s2s train` (its data_json "
                      "says how the data was made)");
    const LoadedData loaded = load_training_data(DataSpec::from_json(data_json));
    require(loaded.valid.size() > 0,
            a.model + ": the model was trained without a validation set (--held-out has "
                      "nothing to evaluate)");
    require(loaded.valid.source_vocab.symbols() == checkpoint.source_vocab.symbols() &&
                loaded.valid.target_vocab.symbols() == checkpoint.target_vocab.symbols(),
            a.model + ": the training data no longer gives the checkpoint's vocabularies");
    data = loaded.valid;
    if (a.size_opt->count() && static_cast<std::size_t>(a.size) < data.size()) {
      std::vector<std::size_t> first(static_cast<std::size_t>(a.size));
      for (std::size_t i = 0; i < first.size(); ++i) first[i] = i;
      data = select(data, first);
    }
    what = fmt::format("the held-out validation examples of its training data ({})",
                       data.size());
  } else if (!a.task.empty()) {
    for (CLI::Option* o : {a.digits_opt, a.reverse_opt, a.dashes_opt})
      if (o->count()) check_task_flag(a.task, o->get_name());
    // Start from the options the model was trained with (same task), then the flags.
    TaskOptions o;
    std::uint64_t train_seed = 1;
    if (data_json.value("task", std::string()) == a.task) {
      DataSpec trained = DataSpec::from_json(data_json);
      o = trained.options;
      train_seed = trained.options.seed;
    }
    if (a.digits_opt->count()) o.digits = a.digits;
    if (a.reverse_opt->count()) o.reverse = a.reverse;
    if (a.dashes_opt->count()) o.max_dashes = a.max_dashes;
    o.seed = a.seed_opt->count() ? a.seed : train_seed + 1;
    o.size = 0;
    o = resolved_task_options(a.task, o);
    o.size = a.size_opt->count() ? a.size : std::min(o.size, kDefaultEvalSize);
    data = task_examples_for(a.task, o, checkpoint);
    what = fmt::format("task {} ({} examples, seed {})", a.task, data.size(), o.seed);
  } else {
    data = file_examples_for(a.data, checkpoint);
    what = fmt::format("{} ({} examples)", a.data, data.size());
  }
  const int needed = data.max_target_length() + 1;
  CheckpointData usable = checkpoint;
  if (checkpoint.config.mode == DecoderMode::teacher_forcing) {
    // Its max_target_length only caps greedy decoding: longer targets (beyond the training
    // lengths) are decoded as far as they need.
    usable.config.max_target_length = std::max(needed, checkpoint.config.max_target_length);
  } else {
    require(needed <= checkpoint.config.max_target_length,
            fmt::format("the longest target has {} characters; this model writes at most {} "
                        "(end token included)",
                        data.max_target_length(), checkpoint.config.max_target_length - 1));
  }
  Seq2Seq model = model_from_checkpoint(usable, backend, precision);
  const EvalResult r = evaluate(model, data, a.batch_size, true, true);

  fmt::print("model: {}\ndata: {}\n", a.model, what);
  fmt::print("loss            {:.4f}\n", r.loss);
  fmt::print("token accuracy  {:.4f} ({}/{} target tokens, end token included; teacher forcing "
             "models see the true previous token)\n",
             r.accuracy(), r.correct_tokens, r.total_tokens);
  fmt::print("exact match     {:.4f} ({}/{}, greedy decoding)\n", r.exact_match(), r.exact,
             r.examples);
  if (a.beam.beam_size > 1) {
    const std::int64_t exact = beam_exact(model, data, a.beam, a.batch_size);
    fmt::print("beam exact match {:.4f} ({}/{}, beam size {}, length penalty {})\n",
               static_cast<double>(exact) / static_cast<double>(data.size()), exact, data.size(),
               a.beam.beam_size, a.beam.length_penalty);
  }
  fmt::print("\nby target length:\n  {:>6}  {:>8}  {:>14}  {:>11}\n", "length", "examples",
             "token accuracy", "exact match");
  for (const auto& [length, row] : r.by_length)
    fmt::print("  {:>6}  {:>8}  {:>14.4f}  {:>11.4f}\n", length, row.examples,
               row.total_tokens ? static_cast<double>(row.correct_tokens) / row.total_tokens : 0.0,
               row.examples ? static_cast<double>(row.exact) / row.examples : 0.0);
  return 0;
}
}  // namespace

Subcommand add_eval_command(CLI::App& parent) {
  auto args = std::make_shared<EvalArgs>();
  EvalArgs& a = *args;
  CLI::App* app = parent.add_subcommand(
      "eval", "Loss, token accuracy and exact-match accuracy of a checkpoint on a task or file");
  app->footer(
      "With --task, the options the model was trained with are used unless given, on a fresh "
      "sample:\nseed = training seed + 1, size = min(task's size, 1000). Small tasks "
      "(digits-words, progression)\nhave few distinct examples, so these overlap the training "
      "data.");
  app->add_option("--model", a.model, "Checkpoint (.safetensors) written by s2s train")->required();
  a.task_opt = app->add_option("--task", a.task, "Built-in task: " + joined(tool_task_names(), "|"))
                   ->check(CLI::IsMember(tool_task_names()));
  a.data_opt = app->add_option("--data", a.data, "Pairs to evaluate on: input<TAB>target lines "
                                                 "(inputs exactly as the model reads them)");
  a.digits_opt = app->add_option("--digits", a.digits, "Task option (default: the model's)")
                     ->check(CLI::Range(1, 100000));
  a.reverse_opt = app->add_flag("--reverse", a.reverse, "Task option (default: the model's)");
  a.dashes_opt = app->add_option("--max-dashes", a.max_dashes, "Task option (default: the model's)")
                     ->check(CLI::Range(1, 100000));
  a.size_opt = app->add_option("--size", a.size, "Examples (default: min(task's size, 1000))")
                   ->check(CLI::Range(1, 100000000));
  a.seed_opt = app->add_option("--seed", a.seed, "Task seed (default: training seed + 1)");
  app->add_flag("--held-out", a.held_out,
                "Evaluate on the model's own validation split (regenerated from its checkpoint; "
                "--size N: its first N)");
  app->add_option("--beam-size", a.beam.beam_size,
                  "Also report the exact match of beam search with this many beams "
                  "(docs/DECODING.md; 1: greedy only)")
      ->capture_default_str();
  app->add_option("--length-penalty", a.beam.length_penalty,
                  "Beam search ranks outputs by score / length^A (1: the mean log-probability "
                  "per step; 0: their sum)")
      ->capture_default_str();
  app->add_option("--batch-size", a.batch_size, "Examples per batch")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app->add_option("--device", a.device, "auto|cpu|cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  app->add_option("--precision", a.precision,
                  "fp32|tf32: tf32 lets CUDA GEMMs use TF32 tensor cores; exact on the CPU")
      ->check(CLI::IsMember({"fp32", "tf32"}))
      ->capture_default_str();
  return {app, [args] { return run_eval(*args); }};
}

}  // namespace s2s::cli
