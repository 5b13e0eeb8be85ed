// Checkpoints in memory: the bytes save_checkpoint writes and the checks load_checkpoint makes,
// without the file system (for tests and the fuzzer, which feed bytes straight in).
#pragma once

#include <string>

#include "s2s/checkpoint.h"

namespace s2s {

// The checkpoint's .safetensors bytes (what save_checkpoint writes). Throws Error, prefixed
// with what, when the parts do not fit together (see check_checkpoint).
std::string checkpoint_bytes(const CheckpointData& checkpoint,
                             const std::string& what = "checkpoint");

// load_checkpoint on bytes: every check, messages naming source.
CheckpointData parse_checkpoint(std::string bytes, const std::string& source);

// Throws Error, prefixed with what, unless the parts fit together: a valid config; vocabulary
// sizes equal to the config's (empty vocabularies for feature inputs/outputs); parameters of
// the layout's total size, all finite; a valid optimizer config, step >= 0, and exactly the
// optimizer state its kind keeps ("optimizer.m", "optimizer.v" for Adam, "optimizer.velocity"
// for SGD with momentum), each of the parameters' size and finite; no state without an
// optimizer; training counters >= 0 and best_valid_loss finite or +infinity.
void check_checkpoint(const CheckpointData& checkpoint, const std::string& what);

}  // namespace s2s
