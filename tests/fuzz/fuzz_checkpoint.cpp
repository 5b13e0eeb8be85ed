// libFuzzer target: bytes as a checkpoint file, through the safetensors framing checks and the
// checkpoint's metadata and tensor checks. s2s::Error is the expected refusal; a crash, a
// sanitizer report, or a checkpoint accepted once but not after a save/load round trip is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/checkpoint_bytes.h"
#include "s2s/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  s2s::CheckpointData checkpoint;
  try {
    checkpoint =
        s2s::parse_checkpoint(std::string(reinterpret_cast<const char*>(data), size), "fuzz-input");
  } catch (const s2s::Error&) {
    return 0;
  }
  // What the loader accepts, the saver must write and the loader read back: an Error here
  // escapes and stops the fuzzer.
  const s2s::CheckpointData again =
      s2s::parse_checkpoint(s2s::checkpoint_bytes(checkpoint), "fuzz-input saved again");
  if (again.parameters != checkpoint.parameters ||
      again.source_vocab.symbols() != checkpoint.source_vocab.symbols() ||
      again.training.data_json != checkpoint.training.data_json ||
      again.optimizer_step != checkpoint.optimizer_step)
    __builtin_trap();
  return 0;
}
