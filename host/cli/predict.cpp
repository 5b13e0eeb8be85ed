// `s2s predict`: predictions of a checkpoint, one line per input (arguments or stdin): greedy,
// beam search (with n-best lists and their scores) or sampling, and attention maps.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/attention_maps.h"
#include "cli/commands.h"
#include "cli/data_spec.h"
#include "cli/output_files.h"
#include "cli/raw_output.h"
#include "s2s/checkpoint.h"
#include "s2s/decoding.h"
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
  DecodeOptions decode;
  std::string attention_map;
  // Flags whose presence matters (sampling is chosen by --temperature or --top-k; --n-best
  // prints scores even for 1).
  CLI::Option *n_best = nullptr, *length_penalty = nullptr, *temperature = nullptr,
              *top_k = nullptr, *seed = nullptr;
};

bool given(const CLI::Option* option) { return option && option->count() > 0; }

// The decoding flags checked together, before any input is read.
void check_decoding_flags(const PredictArgs& a, const ModelConfig& config) {
  const bool sampling = given(a.temperature) || given(a.top_k);
  require(!given(a.seed) || sampling,
          "--seed seeds sampling: give --temperature or --top-k with it");
  require(!sampling || (a.decode.beam_size == 1 && !given(a.n_best) && !given(a.length_penalty)),
          "sampling (--temperature, --top-k) draws one output per input: it cannot be combined "
          "with --beam-size, --n-best or --length-penalty");
  a.decode.validate();
  if (!a.attention_map.empty()) {
    require(config.attention != AttentionKind::none,
            a.model + ": this model has no attention (it was trained without --attention), so "
                      "--attention-map has no weights to draw");
    check_writable_file(attention_map_json_path(a.attention_map), "--attention-map");
  }
}

// A label per token for attention maps: the special tokens by name, others as --raw shows them.
std::string token_label(const Vocabulary& vocab, std::int32_t id, bool numbers) {
  return id < Vocabulary::special_count ? vocab.symbol(id) : raw_text(vocab, {id}, numbers);
}

int run_predict(PredictArgs& a) {
  const BackendKind backend = resolve_backend(parse_backend(a.device));
  const Precision precision = parse_precision(a.precision);
  const CheckpointData checkpoint = load_checkpoint(a.model);
  require(checkpoint.config.output == OutputKind::tokens,
          a.model + ": predict needs a model with token outputs");
  check_decoding_flags(a, checkpoint.config);
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
  const auto show = [&](const std::vector<std::int32_t>& ids) {
    return a.raw ? raw_text(checkpoint.target_vocab, ids, presentation.numbers)
                 : presentation.show_tokens(checkpoint.target_vocab, ids);
  };
  const bool sampling = given(a.temperature) || given(a.top_k);
  if (a.decode.beam_size == 1 && !given(a.n_best) && !sampling && a.attention_map.empty()) {
    const auto predicted =
        predict(model, data, all, bounded_batch_size(checkpoint.config, a.batch_size));
    std::string text;
    for (const auto& ids : predicted) text += show(ids) + "\n";
    write_stdout(text);
    return 0;
  }

  // Beam search decodes beam_size rows per input: the batch shrinks to keep the same budget.
  DecodeOptions options = a.decode;
  options.attention = !a.attention_map.empty();
  const int per_batch = std::max(
      1, bounded_batch_size(checkpoint.config, a.batch_size) / options.beam_size);
  std::string text;
  std::vector<AttentionMap> maps;
  for (std::size_t begin = 0; begin < all.size(); begin += per_batch) {
    const std::size_t end = std::min(all.size(), begin + per_batch);
    const Batch batch = make_batch(data, all, begin, end);
    std::vector<std::vector<Hypothesis>> found;
    if (sampling) {
      for (auto& h : sample_decode(model, batch, options, begin)) found.push_back({std::move(h)});
    } else {
      found = beam_search(model, batch, options);
    }
    for (std::size_t k = 0; k < found.size(); ++k) {
      const std::size_t number = begin + k + 1;
      require(!found[k].empty(), labels[begin + k] +
                                     ": the model's outputs are not finite numbers (no output "
                                     "could be scored)");
      if (given(a.n_best)) {
        for (const Hypothesis& h : found[k])
          text += fmt::format("{}\t{:.6f}\t{}\n", number, h.normalized_score, show(h.tokens));
      } else {
        text += show(found[k][0].tokens) + "\n";
      }
      if (options.attention) {
        const Hypothesis& best = found[k][0];
        AttentionMap m;
        m.input_number = number;
        if (data.feature_sources()) {
          for (int t = 0; t < data.source_length(begin + k); ++t)
            m.source.push_back(std::to_string(t + 1));
        } else {
          for (std::int32_t id : data.source_tokens[begin + k])
            m.source.push_back(token_label(checkpoint.source_vocab, id, presentation.numbers));
        }
        for (std::int32_t id : best.tokens)
          m.output.push_back(token_label(checkpoint.target_vocab, id, presentation.numbers));
        if (best.ended) m.output.push_back(checkpoint.target_vocab.symbol(Vocabulary::end_id));
        m.weights = best.attention;
        maps.push_back(std::move(m));
      }
    }
  }
  if (!maps.empty()) write_attention_maps(a.attention_map, maps);
  write_stdout(text);
  return 0;
}
}  // namespace

Subcommand add_predict_command(CLI::App& parent) {
  auto args = std::make_shared<PredictArgs>();
  PredictArgs& a = *args;
  CLI::App* app = parent.add_subcommand(
      "predict", "Predictions of a checkpoint (greedy, beam search or sampling): one line per "
                 "input, from the arguments or else from stdin lines");
  app->footer(
      "Inputs are typed as a person reads them: for addition, subtraction and pq models they are\n"
      "space-padded to the task's query width and reversed when the model was trained with\n"
      "--reverse (so type 123+45), and the answer's padding is trimmed; progression models take\n"
      "numbers separated by spaces. --raw passes inputs exactly as the model reads them (as in\n"
      "`s2s gen` output). An input longer than the longest source in the model's training data\n"
      "(recorded in the checkpoint) is refused, as is a character outside its vocabulary.\n"
      "Stdin lines may be pair lines as `s2s gen` writes them: the text after a tab is ignored.\n"
      "--raw output shows special tokens as <pad> and <s> (the end token ends the line), other\n"
      "unprintable characters as <U+XXXX>, and writes a literal '<' as \\< and '\\' as \\\\.\n"
      "Decoding (docs/DECODING.md): greedy by default; --beam-size K searches K beams and prints\n"
      "the best by score / length^A (--length-penalty A); --n-best N prints N lines per input,\n"
      "'input number<TAB>score<TAB>output', best first (the score is the sum of the output's\n"
      "log-probabilities, end token included, divided by length^A). --temperature and --top-k\n"
      "sample one output per input instead, reproducibly for a --seed and whatever the batch.");
  app->add_option("--model", a.model, "Checkpoint (.safetensors) written by s2s train")->required();
  app->add_option("inputs", a.inputs, "Inputs (default: one per stdin line)");
  app->add_flag("--raw", a.raw, "Inputs and outputs exactly as the model reads and writes them");
  app->add_option("--batch-size", a.batch_size, "Inputs per batch")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app->add_option("--beam-size", a.decode.beam_size,
                  "Beam search with this many beams per input (1: greedy decoding, exactly)")
      ->capture_default_str();
  a.length_penalty =
      app->add_option("--length-penalty", a.decode.length_penalty,
                      "Beam search ranks finished outputs by score / length^A (1: the mean "
                      "log-probability per step; 0: their sum, which favours short outputs; the "
                      "length counts the end token)")
          ->capture_default_str();
  a.n_best = app->add_option("--n-best", a.decode.n_best,
                             "Print the N best outputs of the beam per input (N <= --beam-size), "
                             "each line 'input<TAB>score<TAB>output'");
  a.temperature = app->add_option("--temperature", a.decode.temperature,
                                  "Sample from softmax(logits / T) instead of searching (T > 0)");
  a.top_k = app->add_option("--top-k", a.decode.top_k,
                            "Sample among the K most likely tokens only (0: all); implies sampling");
  a.seed = app->add_option("--seed", a.decode.seed,
                           "Sampling seed: the same seed gives the same samples (default 1)");
  a.decode.seed = 1;
  app->add_option("--attention-map", a.attention_map,
                  "Write FILE-<n>.png (a heat map per input: rows are output steps, columns "
                  "source positions) and FILE.json (the weights) for a model with attention");
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
