// `s2s predict`: greedy predictions of a checkpoint, one line per input (arguments or stdin).
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/data_spec.h"
#include "cli/output_files.h"
#include "cli/raw_output.h"
#include "s2s/checkpoint.h"
#include "data/lines.h"
#include "s2s/error.h"
#include "s2s/limits.h"
#include "s2s/sequences.h"
#include "s2s/trainer.h"

namespace s2s::cli {

namespace {
// Decoding keeps every step's states for the whole batch: about 4 bytes x max_target_length x
// (the layers' gate and state vectors + the output logits) per example. A checkpoint may state
// a max_target_length up to limits::kMaxSequenceLength whatever its size, so the batch is made
// smaller where that product would pass this budget (ordinary models never come near it).
constexpr double kPredictBatchBudgetBytes = 256.0 * (1 << 20);

int bounded_batch_size(const ModelConfig& c, int requested) {
  const double width = c.output == OutputKind::tokens ? c.target_vocab_size : c.target_features;
  const double per_step =
      4.0 * (2.0 * c.layers * (gate_count(c.cell) + 3) * c.hidden_size + 2.0 * width);
  const double per_example = per_step * c.max_target_length;
  const double fits = kPredictBatchBudgetBytes / per_example;
  return fits >= requested ? requested : std::max(1, static_cast<int>(fits));
}

struct PredictArgs {
  std::string model, device = "auto", precision = "fp32";
  std::vector<std::string> inputs;
  bool raw = false;
  int batch_size = 256;
};

int run_predict(PredictArgs& a) {
  const BackendKind backend = resolve_backend(parse_backend(a.device));
  const Precision precision = parse_precision(a.precision);
  const CheckpointData checkpoint = load_checkpoint(a.model);
  require(checkpoint.config.output == OutputKind::tokens,
          a.model + ": predict needs a model with token outputs");
  const Presentation presentation =
      Presentation::from_json(data_json_of(checkpoint).value("presentation", nlohmann::json()));

  std::vector<std::string> inputs = a.inputs, labels;
  if (inputs.empty()) {
    // Lines may be pair lines (what `s2s gen` writes): the input is the text before the first
    // tab, and a real-valued file's "#s2s-numbers" first line is skipped.
    std::string line;
    std::size_t number = 0;
    while (read_bounded_line(std::cin, line, limits::kMaxLineBytes,
                             "stdin line " + std::to_string(number + 1) + ": ")) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (number == 1 && holds_number_pairs(line)) continue;
      const auto tab = line.find('\t');
      if (tab != std::string::npos) line.resize(tab);
      inputs.push_back(line);
      labels.push_back("line " + std::to_string(number));
    }
    if (inputs.empty()) return 0;
  } else {
    for (std::size_t i = 0; i < inputs.size(); ++i)
      labels.push_back("input " + std::to_string(i + 1));
  }
  // Every input is checked before anything is printed: all outputs or none.
  const SequenceData data = presentation.encode_inputs(inputs, labels, checkpoint, a.raw);
  Seq2Seq model = model_from_checkpoint(checkpoint, backend, precision);
  std::vector<std::size_t> all(data.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  const auto predicted = predict(model, data, all, bounded_batch_size(checkpoint.config, a.batch_size));
  std::string text;
  for (const auto& ids : predicted)
    text += (a.raw ? raw_text(checkpoint.target_vocab, ids, presentation.numbers)
                   : presentation.show_tokens(checkpoint.target_vocab, ids)) + "\n";
  write_stdout(text);
  return 0;
}
}  // namespace

Subcommand add_predict_command(CLI::App& parent) {
  auto args = std::make_shared<PredictArgs>();
  PredictArgs& a = *args;
  CLI::App* app = parent.add_subcommand(
      "predict", "Greedy predictions of a checkpoint: one line per input, from the arguments or "
                 "else from stdin lines");
  app->footer(
      "Inputs are typed as a person reads them: for addition, subtraction and pq models they are\n"
      "space-padded to the task's query width and reversed when the model was trained with\n"
      "--reverse (so type 123+45), and the answer's padding is trimmed; progression models take\n"
      "numbers separated by spaces. --raw passes inputs exactly as the model reads them (as in\n"
      "`s2s gen` output). An input longer than the longest source in the model's training data\n"
      "(recorded in the checkpoint) is refused, as is a character outside its vocabulary.\n"
      "Stdin lines may be pair lines as `s2s gen` writes them: the text after a tab is ignored.\n"
      "--raw output shows special tokens as <pad> and <s> (the end token ends the line), other\n"
      "unprintable characters as <U+XXXX>, and writes a literal '<' as \\< and '\\' as \\\\.");
  app->add_option("--model", a.model, "Checkpoint (.safetensors) written by s2s train")->required();
  app->add_option("inputs", a.inputs, "Inputs (default: one per stdin line)");
  app->add_flag("--raw", a.raw, "Inputs and outputs exactly as the model reads and writes them");
  app->add_option("--batch-size", a.batch_size, "Inputs per batch")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app->add_option("--device", a.device, "auto|cpu|cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  app->add_option("--precision", a.precision,
                  "fp32|tf32: tf32 lets CUDA GEMMs use TF32 tensor cores; exact on the CPU")
      ->check(CLI::IsMember({"fp32", "tf32"}))
      ->capture_default_str();
  return {app, [args] { return run_predict(*args); }};
}

}  // namespace s2s::cli
