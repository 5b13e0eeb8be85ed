// `s2s info`: what a checkpoint holds: config, vocabularies, parameters, optimizer, training.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/data_spec.h"
#include "s2s/checkpoint.h"
#include "s2s/seq2seq.h"
#include "s2s/tensor.h"

namespace s2s::cli {

namespace {
std::string symbols_text(const Vocabulary& v) {
  std::string s;
  for (const auto& c : v.symbols()) s += (s.empty() ? "" : " ") + (c == " " ? "' '" : c);
  return s;
}

int run_info(const std::string& path) {
  const CheckpointData c = load_checkpoint(path);
  const ModelConfig& m = c.config;
  const auto data_json = data_json_of(c);
  const Presentation presentation =
      Presentation::from_json(data_json.value("presentation", nlohmann::json()));

  fmt::print("checkpoint: {}\n\nmodel\n", path);
  fmt::print("  cell {}, hidden {}, layers {}, decoder {}\n", to_string(m.cell), m.hidden_size,
             m.layers, to_string(m.mode));
  if (m.attention != AttentionKind::none)
    fmt::print("  attention: {}{}\n", to_string(m.attention),
               m.input_feed ? ", input feeding" : ", no input feeding");
  else
    fmt::print("  attention: none\n");
  if (m.bidirectional)
    fmt::print("  encoder: bidirectional, decoder started through the {} bridge\n",
               to_string(m.bridge));
  if (m.dropout > 0) fmt::print("  dropout {} (training only)\n", m.dropout);
  if (m.input == InputKind::features)
    fmt::print("  input: features, {} per step\n", m.source_features);
  else if (m.input == InputKind::embedding)
    fmt::print("  input: embedding of size {} over {} source ids\n", m.embedding_size,
               m.source_vocab_size);
  else
    fmt::print("  input: one-hot over {} source ids\n", m.source_vocab_size);
  if (m.output == OutputKind::tokens)
    fmt::print("  output: {} target ids, at most {} steps (end token included)\n",
               m.target_vocab_size, m.max_target_length);
  else
    fmt::print("  output: features, {} per step\n", m.target_features);

  fmt::print("\nvocabularies (ids 0 <pad>, 1 <s>, 2 </s>, then these)\n");
  if (m.input != InputKind::features)
    fmt::print("  source ({}): {}\n", c.source_vocab.symbols().size(), symbols_text(c.source_vocab));
  if (presentation.numbers)
    fmt::print("  target ({}): the numbers 0 to {}\n", c.target_vocab.symbols().size(),
               c.target_vocab.symbols().size() - 1);
  else if (m.output == OutputKind::tokens)
    fmt::print("  target ({}): {}\n", c.target_vocab.symbols().size(), symbols_text(c.target_vocab));

  fmt::print("\nparameters\n");
  std::size_t total = 0, width = 0;
  const auto layout = parameter_layout(m);
  for (const auto& p : layout) width = std::max(width, p.name.size());
  for (const auto& p : layout) {
    fmt::print("  {:<{}}  {:<12}  {:>10}\n", p.name, width, shape_string(p.shape), p.size());
    total += p.size();
  }
  fmt::print("  {:<{}}  {:<12}  {:>10}\n", "total", width, "", total);

  fmt::print("\noptimizer\n");
  if (c.has_optimizer) {
    const OptimizerConfig& o = c.optimizer;
    fmt::print("  {} lr {}", to_string(o.kind), o.learning_rate);
    if (o.kind == OptimizerKind::sgd) fmt::print(" momentum {}", o.momentum);
    else fmt::print(" beta1 {} beta2 {} epsilon {}", o.beta1, o.beta2, o.epsilon);
    fmt::print(" decay {} clip {}; {} updates made", o.decay, o.clip_norm, c.optimizer_step);
    std::string names;
    for (const auto& [name, values] : c.optimizer_state) names += " " + name;
    fmt::print("; state:{}\n", names.empty() ? " none" : names);
  } else {
    fmt::print("  none stored\n");
  }

  const TrainingState& t = c.training;
  fmt::print("\ntraining\n  epochs done {}, updates {}, best validation loss {}, epochs without "
             "improvement {}\n",
             t.epoch, t.step,
             std::isfinite(t.best_valid_loss) ? fmt::format("{:.6f}", t.best_valid_loss) : "none",
             t.epochs_without_improvement);
  if (!data_json.empty()) fmt::print("  data: {}\n", data_json.dump());
  return 0;
}
}  // namespace

Subcommand add_info_command(CLI::App& parent) {
  auto path = std::make_shared<std::string>();
  CLI::App* app = parent.add_subcommand(
      "info", "Show a checkpoint: config, vocabularies, parameter count, training state");
  app->add_option("--model", *path, "Checkpoint (.safetensors)")->required();
  return {app, [path] { return run_info(*path); }};
}

}  // namespace s2s::cli
