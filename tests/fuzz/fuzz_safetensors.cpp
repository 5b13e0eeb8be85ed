// libFuzzer target: bytes as a safetensors file through SafetensorsFile::parse, the framing
// checks alone (header length, JSON, entries, offsets that tile the data). s2s::Error is the
// expected refusal; a crash, a sanitizer report or an accepted file whose entries do not lie
// inside it is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/safetensors.h"
#include "s2s/error.h"
#include "s2s/limits.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    const s2s::SafetensorsFile file = s2s::SafetensorsFile::parse(bytes, "fuzz-input");
    if (file.entries().size() > s2s::limits::kMaxTensorCount) __builtin_trap();
    std::uint64_t expected = 0;
    for (const auto& e : file.entries()) {
      if (e.begin != expected || e.end < e.begin || e.end > size) __builtin_trap();
      if (e.shape.size() > s2s::limits::kMaxTensorRank) __builtin_trap();
      if (file.find(e.name) != &e) __builtin_trap();
      // Touch the bytes, so that ASan checks the range really lies inside the buffer.
      volatile char sink = 0;
      if (e.end > e.begin) sink = file.data(e)[e.end - e.begin - 1];
      (void)sink;
      expected = e.end;
    }
  } catch (const s2s::Error&) {
  }
  return 0;
}
