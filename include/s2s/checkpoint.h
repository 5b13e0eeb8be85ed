// Checkpoints: one .safetensors file holding a model's tensors under PyTorch names, its
// optimizer state, and (in __metadata__) config, vocabularies and training state as JSON.
//
// The file ("s2s-checkpoint-2"; docs/CHECKPOINT.md is the whole schema, its versions and the
// readers' limits):
//   tensors     every parameter of parameter_layout(config), F32, under its name and shape
//               ("encoder.rnn.weight_ih_l0" [G*H, In], ...), then the optimizer state split per
//               parameter: "optimizer.<state>.<parameter name>" with the parameter's shape,
//               <state> = m and v (Adam) or velocity (SGD with momentum). PyTorch users keep
//               the keys not starting with "optimizer." for load_state_dict(strict=True).
//   __metadata__ each value is JSON text:
//     format        "s2s-checkpoint-2" (a JSON string, quotes included); "s2s-checkpoint-1" is
//                   still read (its data description was training.data_json)
//     s2s_version   the writer's version; special_tokens {"pad":0,"start":1,"end":2,
//                   "unknown":null}; decoder: the mode's meaning in words
//     config        every ModelConfig field by name, enums by their to_string names
//     source_vocab, target_vocab  arrays of symbols in id order (specials implicit; [] for
//                   feature inputs/outputs)
//     optimizer     kind, every OptimizerConfig field, and step (absent without an optimizer)
//     training      the TrainingState fields but data_json; best_valid_loss null for +infinity
//     data          TrainingState::data_json, a JSON object (absent when empty)
//   Other metadata keys are ignored when reading.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "s2s/backend.h"
#include "s2s/config.h"
#include "s2s/optimizer.h"
#include "s2s/seq2seq.h"
#include "s2s/vocab.h"

namespace s2s {

// Where training stands, so that a resumed run continues exactly.
struct TrainingState {
  std::int64_t epoch = 0;  // epochs completed
  std::int64_t step = 0;   // optimizer updates made
  double best_valid_loss = std::numeric_limits<double>::infinity();
  std::int64_t epochs_without_improvement = 0;  // early-stopping patience used
  std::string rng_state;   // the data-shuffling engine's state (std::mt19937_64 text form)
  std::string data_json;   // how the data was made (task and options, or file): empty or a JSON
                           // object, nested at most limits::kMaxJsonDepth deep
};

// Everything a checkpoint holds, on the host.
struct CheckpointData {
  ModelConfig config;
  Vocabulary source_vocab;  // empty for feature inputs
  Vocabulary target_vocab;  // empty for feature outputs
  TrainingState training;
  bool has_optimizer = false;
  OptimizerConfig optimizer;
  std::int64_t optimizer_step = 0;
  std::vector<float> parameters;  // flat, in parameter_layout(config) order
  std::vector<std::pair<std::string, std::vector<float>>> optimizer_state;  // as the model names them
};

// The model's parameters and optimizer state with the given vocabularies and training state.
// Throws Error when a vocabulary's size differs from the config's (or is not empty for
// feature inputs/outputs).
CheckpointData checkpoint_of(const Seq2Seq& model, const Vocabulary& source_vocab,
                             const Vocabulary& target_vocab, const TrainingState& training);

// Writes atomically: a temporary file "<path>.tmp-<pid>" in the same folder, flushed and
// synced, then renamed over path, so a crash mid-save leaves any previous file intact. First
// removes the temporary files that killed saves left in that folder (dead pid, and bytes that
// begin as a save's; docs/CHECKPOINT.md, "Writing"). Throws
// Error (naming the path and the reason) when the folder does not exist, is not a folder or
// cannot be written, when writing fails, or when the checkpoint's parts do not fit together
// (sizes against the config, non-finite values: what load_checkpoint would refuse); the
// temporary file is removed and any file at path is left as it was.
void save_checkpoint(const std::string& path, const CheckpointData& checkpoint);

// Reads and checks everything: the file (a regular file, links followed, within
// limits::kMaxCheckpointFileBytes), the safetensors framing (header size within the file and
// within a limit, valid JSON nested within the limit, offsets that tile the data exactly, dtype
// and shape against byte sizes, tensor count, rank and dimensions within the limits, no
// duplicate keys), the metadata (format, special tokens, config present and valid,
// vocabularies, data description), and every tensor against the config's layout, before
// anything is allocated by a size the metadata states. Throws Error naming the path and what
// is wrong and what is allowed.
CheckpointData load_checkpoint(const std::string& path);

// A model built from a checkpoint on the given backend, with its parameters, and its
// optimizer and state when the checkpoint has them.
Seq2Seq model_from_checkpoint(const CheckpointData& checkpoint,
                              BackendKind backend = BackendKind::cpu,
                              Precision precision = Precision::fp32);

}  // namespace s2s
