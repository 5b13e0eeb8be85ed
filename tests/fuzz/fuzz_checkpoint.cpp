// libFuzzer target: bytes as a checkpoint file, through the safetensors framing checks, the
// checkpoint's metadata and tensor checks, and what `s2s info`/`predict`/`eval` then read from
// its data description (data_json, presentation). s2s::Error is the expected refusal; a crash,
// a sanitizer report, an allocation over libFuzzer's -malloc_limit_mb, or a checkpoint accepted
// once but not after a save/load round trip is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/data_spec.h"
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
  // The tool's readers of the data description.
  try {
    const auto data_json = s2s::cli::data_json_of(checkpoint);
    const auto presentation =
        s2s::cli::Presentation::from_json(data_json.value("presentation", nlohmann::json()));
    (void)data_json.dump();
    if (data_json.contains("task") || data_json.contains("data"))
      (void)s2s::cli::DataSpec::from_json(data_json);
    // predict's padding of a typed input by the recorded width (bounded by the limits).
    if (checkpoint.config.input != s2s::InputKind::features &&
        !checkpoint.source_vocab.symbols().empty())
      (void)presentation.encode_inputs({checkpoint.source_vocab.symbols()[0]}, {"input 1"},
                                       checkpoint, false);
  } catch (const s2s::Error&) {
  }
  return 0;
}
