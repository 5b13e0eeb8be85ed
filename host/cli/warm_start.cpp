// Warm starts: which checkpoints a new model may take its weights from.
#include "cli/warm_start.h"

#include "cli/data_spec.h"
#include "s2s/error.h"

namespace s2s::cli {

namespace {
void same(const std::string& what, const char* field, const std::string& theirs,
          const std::string& ours) {
  if (theirs != ours)
    throw Error(what + ": incompatible " + field + ": the checkpoint has " + theirs +
                ", this run needs " + ours + " (a warm start needs the same cell, hidden_size, "
                "layers, mode, input, output, attention and vocabularies)");
}

std::string symbols_text(const Vocabulary& v) { return "'" + joined(v.symbols(), "', '") + "'"; }
}  // namespace

void check_compatible(const CheckpointData& from, const ModelConfig& config,
                      const Vocabulary& source_vocab, const Vocabulary& target_vocab,
                      const std::string& what) {
  const ModelConfig& c = from.config;
  same(what, "cell", to_string(c.cell), to_string(config.cell));
  same(what, "hidden_size", std::to_string(c.hidden_size), std::to_string(config.hidden_size));
  same(what, "layers", std::to_string(c.layers), std::to_string(config.layers));
  same(what, "mode", to_string(c.mode), to_string(config.mode));
  same(what, "input", to_string(c.input), to_string(config.input));
  same(what, "embedding_size", std::to_string(c.embedding_size),
       std::to_string(config.embedding_size));
  same(what, "source_features", std::to_string(c.source_features),
       std::to_string(config.source_features));
  same(what, "output", to_string(c.output), to_string(config.output));
  same(what, "attention", to_string(c.attention), to_string(config.attention));
  same(what, "input_feed", c.input_feed ? "on" : "off", config.input_feed ? "on" : "off");
  same(what, "source_vocab", symbols_text(from.source_vocab), symbols_text(source_vocab));
  same(what, "target_vocab", symbols_text(from.target_vocab), symbols_text(target_vocab));
  same(what, "source_vocab_size", std::to_string(c.source_vocab_size),
       std::to_string(config.source_vocab_size));
  same(what, "target_vocab_size", std::to_string(c.target_vocab_size),
       std::to_string(config.target_vocab_size));
  same(what, "target_features", std::to_string(c.target_features),
       std::to_string(config.target_features));
}

}  // namespace s2s::cli
