// The safetensors file format (https://huggingface.co/docs/safetensors): writing, and reading
// with every check the format requires, so that a damaged or hostile file is refused with an
// s2s::Error instead of being trusted.
//
// Layout: an 8-byte little-endian u64 N, N bytes of UTF-8 JSON (the header), then the data
// section. The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
// (byte offsets relative to the data section) and may hold "__metadata__", an object of
// string -> string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "s2s/limits.h"
#include "s2s/tensor.h"

namespace s2s {

// Largest header the reader accepts (the reference implementation's limit; s2s/limits.h).
constexpr std::uint64_t kSafetensorsMaxHeaderBytes = limits::kMaxHeaderBytes;

// Bytes per element of a safetensors dtype name ("F32", "BF16", "U8", ...); 0 when the name is
// not one of the format's dtypes.
std::size_t safetensors_dtype_size(const std::string& dtype);
// The dtype names the reader knows, comma-separated (for error messages).
std::string safetensors_dtype_names();

// True when JSON text [begin, end) nests arrays and objects at most max_depth deep (brackets
// inside strings not counted). Linear, no recursion: run before a recursive parser.
bool json_depth_within(const char* begin, const char* end, int max_depth);

// Parses UTF-8 JSON text [begin, end), refusing nesting deeper than limits::kMaxJsonDepth and a
// key repeated inside any object (nlohmann's parser would keep the last silently). Throws Error
// "<what> is not valid UTF-8 JSON, at byte N: <problem> (expected <expected>)", "<what> nests
// arrays or objects more than N levels deep ...", or "<what> repeats the key '...' (every key
// must appear once)". expected (may be empty) says what the text should hold.
nlohmann::json parse_json_unique_keys(const char* begin, const char* end, const std::string& what,
                                      const std::string& expected = "");

// One tensor to write: its bytes are read from data (not owned; byte_size bytes, little-endian
// elements) while the file is written.
struct SafetensorsTensorRef {
  std::string name;
  std::string dtype;  // e.g. "F32"
  Shape shape;
  const void* data = nullptr;  // byte_size bytes; may be null when byte_size == 0
  std::size_t byte_size = 0;   // must equal element_count(shape) * dtype size
};

using SafetensorsMetadata = std::map<std::string, std::string>;

// The first part of a file: the 8-byte length and the JSON header (with __metadata__ first
// when metadata is not empty, then the tensors in the order given), padded with spaces to a
// multiple of 8 bytes. The tensors' bytes follow it in the order given, contiguous. Throws
// Error (prefixed with `what`) for an empty, repeated or reserved name, an unknown dtype, or a
// byte size that does not match the shape.
std::string safetensors_header(const std::vector<SafetensorsTensorRef>& tensors,
                               const SafetensorsMetadata& metadata,
                               const std::string& what = "safetensors");
// A whole file in memory: safetensors_header followed by the tensors' bytes.
std::string safetensors_bytes(const std::vector<SafetensorsTensorRef>& tensors,
                              const SafetensorsMetadata& metadata,
                              const std::string& what = "safetensors");

// One tensor of a file that was read: where its bytes lie in the data section.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;
  Shape shape;
  std::uint64_t begin = 0;  // byte offsets in the data section, [begin, end)
  std::uint64_t end = 0;
};

// A checked safetensors file, holding its bytes.
class SafetensorsFile {
 public:
  // Parses and checks bytes (the whole file); source names it in messages (a path, or a
  // description). Throws Error naming the source, what is wrong and what is allowed when:
  // the file is shorter than 8 bytes; the header length exceeds the file or
  // kSafetensorsMaxHeaderBytes; the header is not a UTF-8 JSON object or repeats a key; an
  // entry is not an object of exactly dtype, shape and data_offsets; a dtype is unknown; a
  // shape entry is not a non-negative integer; shape and dtype do not give the entry's byte
  // count; the entries' byte ranges do not tile the data section exactly (sorted by begin,
  // the first at 0, each starting where the previous ended, the last at the end of the file);
  // a metadata value is not a string; more than limits::kMaxTensorCount tensors, a rank above
  // kMaxTensorRank or a dimension above kMaxTensorDimension. Linear in the header's size
  // (up to sorting the entries by offset).
  static SafetensorsFile parse(std::string bytes, const std::string& source);
  // parse() on a file's contents; throws Error naming the path when it cannot be read, is not
  // a regular file (after following links) or is larger than max_bytes.
  static SafetensorsFile read(const std::string& path,
                              std::uint64_t max_bytes = limits::kMaxCheckpointFileBytes);

  const std::string& source() const { return source_; }
  const SafetensorsMetadata& metadata() const { return metadata_; }
  // Every tensor, in data order (ascending offsets).
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  // The entry named name, or null.
  const SafetensorsEntry* find(const std::string& name) const;
  // The first byte of an entry's data (entry.end - entry.begin bytes; no alignment promised).
  const char* data(const SafetensorsEntry& entry) const;

 private:
  std::string source_;
  std::string bytes_;
  std::size_t data_start_ = 0;
  SafetensorsMetadata metadata_;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, std::size_t> index_;  // name -> position in entries_
};

}  // namespace s2s
