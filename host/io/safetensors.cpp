// The safetensors format: a writer, and a reader that trusts nothing in the file (every size and
// offset is checked with overflow-free u64 arithmetic before any byte is used).
#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>
#include <utility>

#include "io/regular_file.h"
#include "s2s/error.h"
#include "s2s/limits.h"

// Tensor bytes are copied as they lie in memory, and the format is little-endian.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "s2s safetensors I/O assumes a little-endian host"
#endif

namespace s2s {

namespace {

struct DtypeSize {
  const char* name;
  std::size_t bytes;
};
// Every dtype of the format (its documentation's list), with its element size.
constexpr DtypeSize kDtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
    {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
    {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8},
};

// a * b and a + b on u64, false on overflow.
bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}
bool checked_add(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (b > std::numeric_limits<std::uint64_t>::max() - a) return false;
  out = a + b;
  return true;
}

std::string in_quotes(const std::string& name) { return "'" + name + "'"; }

// A short description of an untrusted JSON value: numbers as written, anything else by type
// (dump() would recurse into arbitrarily deep nesting).
std::string describe(const nlohmann::json& value) {
  if (value.is_number()) return value.dump();
  return std::string("a JSON ") + value.type_name();
}

// data_offsets as given, when they have the expected form.
std::string offsets_string(const nlohmann::json& offsets) {
  if (!offsets.is_array() || offsets.size() != 2) return describe(offsets);
  return "[" + describe(offsets[0]) + ", " + describe(offsets[1]) + "]";
}

std::string range_string(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

std::uint64_t read_u64_le(const std::string& bytes) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

void append_u64_le(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// A SAX pass over the text before the DOM is built: nlohmann's parser keeps the last of repeated
// keys silently, and its callback form rescans the enclosing object at every inner object's end
// (quadratic in the number of tensors), so repeated keys are found here instead, in one linear
// pass. One key set per open object, innermost last; the first syntax error is kept.
class DuplicateKeyFinder : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool found = false;
  std::string duplicate;  // the first repeated key, when found
  bool syntax_error = false;
  std::string syntax_message;  // nlohmann's message
  std::size_t syntax_byte = 0;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    open_objects_.emplace_back();
    return true;
  }
  bool key(string_t& key) override {
    if (!open_objects_.empty() && !open_objects_.back().insert(key).second && !found) {
      found = true;
      duplicate = key;
    }
    return true;
  }
  bool end_object() override {
    if (!open_objects_.empty()) open_objects_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    syntax_error = true;
    syntax_message = e.what();
    syntax_byte = position;
    return false;
  }

 private:
  std::vector<std::unordered_set<std::string>> open_objects_;
};

}  // namespace

bool json_depth_within(const char* begin, const char* end, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (const char* p = begin; p != end; ++p) {
    const char c = *p;
    if (in_string) {
      if (c == '\\') {
        if (++p == end) break;  // a dangling escape: the parser reports it
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;  // unbalanced closers are the parser's to report
    }
  }
  return true;
}

namespace {
// nlohmann's parse error text without its "[json.exception...] parse error at line, column"
// prefix and the "last read: '...'" echo of the untrusted bytes, with the byte position.
std::string syntax_problem(std::string text, std::size_t byte) {
  const auto colon = text.find(": ");
  if (text.rfind("[json.exception", 0) == 0 && colon != std::string::npos)
    text = text.substr(colon + 2);
  const auto last_read = text.find("; last read: ");
  if (last_read != std::string::npos) {
    const auto after = text.find("'; ", last_read);
    text = text.substr(0, last_read) +
           (after == std::string::npos ? std::string() : "; " + text.substr(after + 3));
  }
  return "at byte " + std::to_string(byte) + ": " + text;
}
}  // namespace

nlohmann::json parse_json_unique_keys(const char* begin, const char* end, const std::string& what,
                                      const std::string& expected) {
  const std::string expecting = expected.empty() ? "" : " (expected " + expected + ")";
  // nlohmann's DOM recurses once per nesting level (building, copying and destroying values):
  // bound the depth before anything else runs.
  if (!json_depth_within(begin, end, limits::kMaxJsonDepth))
    throw Error(what + " nests arrays or objects more than " +
                std::to_string(limits::kMaxJsonDepth) + " levels deep (allowed: at most " +
                std::to_string(limits::kMaxJsonDepth) + ")" + expecting);
  DuplicateKeyFinder finder;
  nlohmann::json::sax_parse(begin, end, &finder);
  if (finder.syntax_error)
    throw Error(what + " is not valid UTF-8 JSON, " +
                syntax_problem(finder.syntax_message, finder.syntax_byte) + expecting);
  if (finder.found)
    throw Error(what + " repeats the key " + in_quotes(finder.duplicate) +
                " (every key must appear once)");
  try {
    return nlohmann::json::parse(begin, end);
  } catch (const nlohmann::json::exception& e) {  // the SAX pass accepted it: not expected
    throw Error(what + " is not valid UTF-8 JSON (" + e.what() + ")" + expecting);
  }
}

std::size_t safetensors_dtype_size(const std::string& dtype) {
  for (const auto& d : kDtypes)
    if (dtype == d.name) return d.bytes;
  return 0;
}

std::string safetensors_dtype_names() {
  std::string names;
  for (const auto& d : kDtypes) names += (names.empty() ? "" : ", ") + std::string(d.name);
  return names;
}

std::string safetensors_header(const std::vector<SafetensorsTensorRef>& tensors,
                               const SafetensorsMetadata& metadata, const std::string& what) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    auto& meta = header["__metadata__"];
    meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
  }
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    const std::string where = what + ": tensor " + in_quotes(t.name) + ": ";
    if (t.name.empty()) throw Error(what + ": a tensor has an empty name");
    if (t.name == "__metadata__") throw Error(where + "the name is reserved for the metadata");
    if (header.contains(t.name)) throw Error(where + "the name appears twice");
    const std::size_t element_bytes = safetensors_dtype_size(t.dtype);
    if (element_bytes == 0)
      throw Error(where + "unknown dtype '" + t.dtype + "' (allowed: " + safetensors_dtype_names() +
                  ")");
    std::uint64_t bytes = element_bytes;
    for (const auto d : t.shape) {
      if (d < 0) throw Error(where + "negative dimension in shape " + shape_string(t.shape));
      if (!checked_mul(bytes, static_cast<std::uint64_t>(d), bytes))
        throw Error(where + "shape " + shape_string(t.shape) + " is too large");
    }
    if (bytes != t.byte_size)
      throw Error(where + std::to_string(t.byte_size) + " bytes given, shape " +
                  shape_string(t.shape) + " of " + t.dtype + " needs " + std::to_string(bytes));
    if (bytes > 0 && t.data == nullptr) throw Error(where + "no data given");
    std::uint64_t end = 0;
    if (!checked_add(offset, bytes, end)) throw Error(what + ": the tensors are too large");
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text;
  try {
    text = header.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
  } catch (const nlohmann::json::exception& e) {
    // Only invalid UTF-8 in a name or a metadata string can make dump fail.
    throw Error(what + ": a tensor name or metadata string is not valid UTF-8 (" + e.what() + ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + text.size());
  append_u64_le(out, text.size());
  out += text;
  return out;
}

std::string safetensors_bytes(const std::vector<SafetensorsTensorRef>& tensors,
                              const SafetensorsMetadata& metadata, const std::string& what) {
  std::string out = safetensors_header(tensors, metadata, what);
  for (const auto& t : tensors)
    if (t.byte_size > 0) out.append(static_cast<const char*>(t.data), t.byte_size);
  return out;
}

SafetensorsFile SafetensorsFile::parse(std::string bytes, const std::string& source) {
  const auto fail = [&](const std::string& problem) -> Error {
    return Error(source + ": not a valid safetensors file: " + problem);
  };
  SafetensorsFile file;
  file.source_ = source;

  if (bytes.size() < 8)
    throw fail("the file has " + std::to_string(bytes.size()) +
               " bytes, fewer than the 8-byte header length that starts every safetensors file");
  const std::uint64_t header_length = read_u64_le(bytes);
  const std::uint64_t after_length = bytes.size() - 8;
  if (header_length > kSafetensorsMaxHeaderBytes)
    throw fail("the header length is " + std::to_string(header_length) +
               " bytes (allowed: at most " + std::to_string(kSafetensorsMaxHeaderBytes) + ")");
  if (header_length > after_length)
    throw fail("the header length is " + std::to_string(header_length) + " bytes, but only " +
               std::to_string(after_length) + " bytes follow the 8-byte length (truncated file?)");
  const std::size_t data_start = 8 + static_cast<std::size_t>(header_length);
  const std::uint64_t data_size = bytes.size() - data_start;

  const nlohmann::json header =
      parse_json_unique_keys(bytes.data() + 8, bytes.data() + data_start,
                             source + ": not a valid safetensors file: the header");
  if (!header.is_object())
    throw fail(std::string("the header is a JSON ") + header.type_name() +
               ", not an object of tensor entries");
  const std::size_t tensor_count = header.size() - (header.contains("__metadata__") ? 1 : 0);
  if (tensor_count > limits::kMaxTensorCount)
    throw fail("the header has " + std::to_string(tensor_count) + " tensors (allowed: at most " +
               std::to_string(limits::kMaxTensorCount) + ")");
  file.entries_.reserve(tensor_count);

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& value = it.value();
    if (name == "__metadata__") {
      if (!value.is_object())
        throw fail("__metadata__ is a JSON " + std::string(value.type_name()) +
                   " (allowed: an object of string values)");
      for (auto m = value.begin(); m != value.end(); ++m) {
        if (!m.value().is_string())
          throw fail("__metadata__ value " + in_quotes(m.key()) + " is a JSON " +
                     m.value().type_name() + " (allowed: strings only)");
        file.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const auto where = "tensor " + in_quotes(name) + ": ";
    if (!value.is_object())
      throw fail(where + "the entry is a JSON " + value.type_name() +
                 " (allowed: an object with dtype, shape and data_offsets)");
    for (auto field = value.begin(); field != value.end(); ++field)
      if (field.key() != "dtype" && field.key() != "shape" && field.key() != "data_offsets")
        throw fail(where + "unexpected field " + in_quotes(field.key()) +
                   " (allowed: dtype, shape, data_offsets)");
    for (const char* required : {"dtype", "shape", "data_offsets"})
      if (!value.contains(required))
        throw fail(where + "no " + required + " field (required: dtype, shape, data_offsets)");

    SafetensorsEntry entry;
    entry.name = name;
    const auto& dtype = value["dtype"];
    if (!dtype.is_string())
      throw fail(where + "dtype is a JSON " + dtype.type_name() + " (allowed: a string)");
    entry.dtype = dtype.get<std::string>();
    const std::size_t element_bytes = safetensors_dtype_size(entry.dtype);
    if (element_bytes == 0)
      throw fail(where + "unknown dtype " + in_quotes(entry.dtype) +
                 " (allowed: " + safetensors_dtype_names() + ")");

    const auto& shape = value["shape"];
    if (!shape.is_array())
      throw fail(where + "shape is a JSON " + shape.type_name() +
                 " (allowed: an array of non-negative integers)");
    if (shape.size() > limits::kMaxTensorRank)
      throw fail(where + "shape has " + std::to_string(shape.size()) +
                 " dimensions (allowed: at most " + std::to_string(limits::kMaxTensorRank) + ")");
    bool has_zero = false;
    for (const auto& d : shape) {
      // nlohmann types a non-negative integer literal as unsigned; negative ones and any
      // fraction or exponent are other number types.
      if (!d.is_number_unsigned() ||
          d.get<std::uint64_t>() >
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw fail(where + "shape entry " + describe(d) +
                   " is not a non-negative integer (allowed: 0 to 2^63-1)");
      if (d.get<std::uint64_t>() > limits::kMaxTensorDimension)
        throw fail(where + "shape entry " + describe(d) + " is larger than " +
                   std::to_string(limits::kMaxTensorDimension) + " (allowed: 0 to " +
                   std::to_string(limits::kMaxTensorDimension) + ")");
      entry.shape.push_back(static_cast<std::int64_t>(d.get<std::uint64_t>()));
      has_zero = has_zero || entry.shape.back() == 0;
    }
    std::uint64_t byte_count = element_bytes;
    if (has_zero) {
      byte_count = 0;
    } else {
      for (const auto d : entry.shape)
        if (!checked_mul(byte_count, static_cast<std::uint64_t>(d), byte_count))
          throw fail(where + "shape " + shape_string(entry.shape) + " of " + entry.dtype +
                     " is larger than any file");
    }

    const auto& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      throw fail(where + "data_offsets is " + offsets_string(offsets) +
                 " (allowed: [begin, end], two non-negative integers)");
    entry.begin = offsets[0].get<std::uint64_t>();
    entry.end = offsets[1].get<std::uint64_t>();
    if (entry.end < entry.begin)
      throw fail(where + "data_offsets " + offsets_string(offsets) + " end before they begin");
    if (entry.end - entry.begin != byte_count)
      throw fail(where + "shape " + shape_string(entry.shape) + " of " + entry.dtype + " needs " +
                 std::to_string(byte_count) + " bytes, but data_offsets " +
                 offsets_string(offsets) + " hold " + std::to_string(entry.end - entry.begin));
    file.entries_.push_back(std::move(entry));
  }

  // The byte ranges must tile the data section: no gap, no overlap, nothing after the last.
  std::sort(file.entries_.begin(), file.entries_.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  std::uint64_t expected = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const auto& e : file.entries_) {
    if (e.begin < expected)
      throw fail("tensor " + in_quotes(e.name) + " at bytes " + range_string(e.begin, e.end) +
                 " overlaps tensor " + in_quotes(previous->name) + " at " +
                 range_string(previous->begin, previous->end) +
                 " (the tensors' bytes must tile the data section exactly)");
    if (e.begin > expected)
      throw fail("a gap of " + std::to_string(e.begin - expected) + " bytes before tensor " +
                 in_quotes(e.name) + " at bytes " + range_string(e.begin, e.end) +
                 (previous ? " (the previous tensor, " + in_quotes(previous->name) + ", ends at " +
                                 std::to_string(expected) + ")"
                           : " (the first tensor must begin at 0)") +
                 "; the tensors' bytes must tile the data section exactly");
    if (e.end > data_size)
      throw fail("tensor " + in_quotes(e.name) + " at bytes " + range_string(e.begin, e.end) +
                 " ends beyond the data section, which has " + std::to_string(data_size) +
                 " bytes (truncated file?)");
    expected = e.end;
    previous = &e;
  }
  if (expected != data_size)
    throw fail(std::to_string(data_size - expected) +
               " trailing bytes after the last tensor's data " + "(the data section has " +
               std::to_string(data_size) + " bytes, the tensors cover " + std::to_string(expected) +
               "; the tensors' bytes must tile it exactly)");

  for (std::size_t i = 0; i < file.entries_.size(); ++i) file.index_[file.entries_[i].name] = i;
  file.bytes_ = std::move(bytes);
  file.data_start_ = data_start;
  return file;
}

SafetensorsFile SafetensorsFile::read(const std::string& path, std::uint64_t max_bytes) {
  return parse(read_regular_file(path, max_bytes, "checkpoint"), path);
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

const char* SafetensorsFile::data(const SafetensorsEntry& entry) const {
  return bytes_.data() + data_start_ + static_cast<std::size_t>(entry.begin);
}

}  // namespace s2s
