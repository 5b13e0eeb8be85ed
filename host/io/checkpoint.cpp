// Checkpoints as .safetensors files: parameters under their PyTorch names, optimizer state as
// "optimizer.<state>.<parameter>" tensors, and config, vocabularies, optimizer and training
// state as JSON texts in __metadata__ (checkpoint.h says what each holds).
#include "s2s/checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "io/checkpoint_bytes.h"
#include "io/safetensors.h"
#include "s2s/error.h"
#include "s2s/limits.h"
#include "s2s/vocab.h"

namespace s2s {

namespace {

using Json = nlohmann::ordered_json;

// The format this version writes, and the older one it still reads (docs/CHECKPOINT.md).
constexpr char kFormat[] = "s2s-checkpoint-2";
constexpr char kFormatV1[] = "s2s-checkpoint-1";
#ifndef S2S_VERSION_STRING
#define S2S_VERSION_STRING "unknown"
#endif
constexpr char kOptimizerPrefix[] = "optimizer.";

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

// The state an optimizer keeps, as the model names it ("optimizer.m", ...); the model's
// optimizer_state() returns the same list (seq2seq.cpp).
std::vector<std::string> optimizer_state_names(const OptimizerConfig& optimizer) {
  if (optimizer.kind == OptimizerKind::adam) return {"optimizer.m", "optimizer.v"};
  if (optimizer.momentum > 0) return {"optimizer.velocity"};
  return {};
}

// "optimizer.m" + "encoder.rnn.weight_ih_l0" -> "optimizer.m.encoder.rnn.weight_ih_l0".
std::string state_tensor_name(const std::string& state, const std::string& parameter) {
  return state + "." + parameter;
}

std::size_t layout_total(const std::vector<ParameterInfo>& layout) {
  return layout.empty() ? 0 : layout.back().offset + layout.back().size();
}

// Throws unless every value of the flat buffer is finite, naming the tensor and index.
void require_finite(const std::vector<float>& values, const std::vector<ParameterInfo>& layout,
                    const std::string& prefix, const std::string& what) {
  for (const auto& info : layout)
    for (std::size_t i = 0; i < info.size(); ++i) {
      const float v = values[info.offset + i];
      if (!std::isfinite(v))
        throw Error(what + ": tensor " + in_quotes(prefix + info.name) + " holds " +
                    std::to_string(v) + " at index " + std::to_string(i) +
                    " (allowed: finite values)");
    }
}

// ---- Metadata: the structs as JSON and back. ----

Json config_json(const ModelConfig& c) {
  return Json{{"cell", to_string(c.cell)},
              {"hidden_size", c.hidden_size},
              {"layers", c.layers},
              {"mode", to_string(c.mode)},
              {"input", to_string(c.input)},
              {"source_vocab_size", c.source_vocab_size},
              {"source_features", c.source_features},
              {"embedding_size", c.embedding_size},
              {"output", to_string(c.output)},
              {"target_vocab_size", c.target_vocab_size},
              {"target_features", c.target_features},
              {"max_target_length", c.max_target_length},
              {"attention", to_string(c.attention)},
              {"input_feed", c.input_feed},
              {"bidirectional", c.bidirectional},
              {"bridge", to_string(c.bridge)},
              {"dropout", c.dropout}};
}

Json optimizer_json(const OptimizerConfig& o, std::int64_t step) {
  return Json{{"kind", to_string(o.kind)},
              {"learning_rate", o.learning_rate},
              {"momentum", o.momentum},
              {"beta1", o.beta1},
              {"beta2", o.beta2},
              {"epsilon", o.epsilon},
              {"decay", o.decay},
              {"clip_norm", o.clip_norm},
              {"step", step}};
}

// Format 2's "training": TrainingState without data_json, which has its own key ("data").
Json training_json(const TrainingState& t) {
  Json best = nullptr;  // JSON has no infinity: null stands for "no validation loss yet"
  if (!std::isinf(t.best_valid_loss)) best = t.best_valid_loss;
  return Json{{"epoch", t.epoch},
              {"step", t.step},
              {"best_valid_loss", best},
              {"epochs_without_improvement", t.epochs_without_improvement},
              {"rng_state", t.rng_state}};
}

// The special token ids every s2s vocabulary uses; s2s has no unknown token (a character outside
// the vocabulary is refused), hence null.
Json special_tokens_json() {
  return Json{{"pad", Vocabulary::pad_id},
              {"start", Vocabulary::start_id},
              {"end", Vocabulary::end_id},
              {"unknown", nullptr}};
}

// What the decoder mode means, for readers who rebuild the model elsewhere (informational: the
// loader ignores it; docs/CHECKPOINT.md says the same at more length).
Json decoder_json(DecoderMode mode) {
  if (mode == DecoderMode::repeat)
    return Json{{"mode", to_string(mode)},
                {"input", "the encoder's top-layer final hidden state h, at every step"},
                {"initial_state", "zeros"},
                {"steps", "max_target_length; the output ends at the first end token"}};
  return Json{{"mode", to_string(mode)},
              {"input", "the previous target token (the start token first), through one-hot or "
                        "the decoder embedding like the encoder's input"},
              {"initial_state", "the encoder's final states, layer by layer"},
              {"steps", "until the end token, at most max_target_length (end token included)"}};
}

Json vocab_json(const Vocabulary& v) { return Json(v.symbols()); }

// Reads the fields of one metadata object, naming the metadata key in every message.
class FieldReader {
 public:
  // fields must all be present; optional ones may be (a reader asks has() before reading them).
  FieldReader(const nlohmann::json& object, std::string what, std::vector<std::string> fields,
              const std::vector<std::string>& optional = {})
      : object_(object), what_(std::move(what)) {
    std::string allowed;
    for (const auto& f : fields) allowed += (allowed.empty() ? "" : ", ") + f;
    for (const auto& f : optional) allowed += (allowed.empty() ? "" : ", ") + f;
    const std::vector<std::string> required = fields;
    fields.insert(fields.end(), optional.begin(), optional.end());
    if (!object.is_object())
      throw Error(what_ + " is a JSON " + object.type_name() + " (expected an object of " +
                  allowed + ")");
    for (auto it = object.begin(); it != object.end(); ++it)
      if (std::find(fields.begin(), fields.end(), it.key()) == fields.end())
        throw Error(what_ + " has an unknown field " + in_quotes(it.key()) +
                    " (allowed: " + allowed + ")");
    for (const auto& f : required)
      if (!object.contains(f)) throw Error(what_ + " lacks the field " + in_quotes(f));
  }

  bool has(const std::string& field) const { return object_.contains(field); }
  bool boolean(const std::string& field) const {
    const auto& v = object_[field];
    if (!v.is_boolean())
      throw Error(what_ + ": " + field + " is " + describe(v) + " (allowed: true or false)");
    return v.get<bool>();
  }

  std::int64_t integer(const std::string& field, std::int64_t low, std::int64_t high) const {
    const auto& v = object_[field];
    bool ok = false;
    std::int64_t value = 0;
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      ok = u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      value = static_cast<std::int64_t>(u);
    } else if (v.is_number_integer()) {
      ok = true;
      value = v.get<std::int64_t>();
    }
    if (!ok || value < low || value > high)
      throw Error(what_ + ": " + field + " is " + describe(v) + " (allowed: an integer from " +
                  std::to_string(low) + " to " + std::to_string(high) + ")");
    return value;
  }
  int int32(const std::string& field) const {
    return static_cast<int>(integer(field, INT_MIN, INT_MAX));
  }
  double number(const std::string& field) const {
    const auto& v = object_[field];
    if (!v.is_number())
      throw Error(what_ + ": " + field + " is " + describe(v) + " (allowed: a number)");
    return v.get<double>();
  }
  const nlohmann::json& value(const std::string& field) const { return object_[field]; }
  std::string string(const std::string& field) const {
    const auto& v = object_[field];
    if (!v.is_string())
      throw Error(what_ + ": " + field + " is " + describe(v) + " (allowed: a string)");
    return v.get<std::string>();
  }
  // An enum by name through parse (which throws naming the allowed names).
  template <typename Parse>
  auto name(const std::string& field, Parse parse) const {
    const std::string text = string(field);
    try {
      return parse(text);
    } catch (const Error& e) {
      throw Error(what_ + ": " + field + ": " + e.what());
    }
  }

  static std::string describe(const nlohmann::json& v) {
    return v.is_number() ? v.dump() : std::string("a JSON ") + v.type_name();
  }

 private:
  const nlohmann::json& object_;
  std::string what_;
};

ModelConfig config_from_json(const nlohmann::json& j, const std::string& what) {
  const FieldReader r(
      j, what,
      {"cell", "hidden_size", "layers", "mode", "input", "source_vocab_size", "source_features",
       "embedding_size", "output", "target_vocab_size", "target_features", "max_target_length"},
      // Added with attention, bidirectional encoders and dropout: checkpoints written before
      // lack them and mean none, false, false, sum and 0.
      {"attention", "input_feed", "bidirectional", "bridge", "dropout"});
  ModelConfig c;
  c.cell = r.name("cell", parse_cell);
  c.hidden_size = r.int32("hidden_size");
  c.layers = r.int32("layers");
  c.mode = r.name("mode", parse_decoder_mode);
  c.input = r.name("input", parse_input_kind);
  c.source_vocab_size = r.int32("source_vocab_size");
  c.source_features = r.int32("source_features");
  c.embedding_size = r.int32("embedding_size");
  c.output = r.name("output", parse_output_kind);
  c.target_vocab_size = r.int32("target_vocab_size");
  c.target_features = r.int32("target_features");
  c.max_target_length = r.int32("max_target_length");
  if (r.has("attention")) c.attention = r.name("attention", parse_attention);
  if (r.has("input_feed")) c.input_feed = r.boolean("input_feed");
  if (r.has("bidirectional")) c.bidirectional = r.boolean("bidirectional");
  if (r.has("bridge")) c.bridge = r.name("bridge", parse_bridge);
  if (r.has("dropout")) c.dropout = r.number("dropout");
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
  return c;
}

OptimizerConfig optimizer_from_json(const nlohmann::json& j, const std::string& what,
                                    std::int64_t& step) {
  const FieldReader r(j, what,
                      {"kind", "learning_rate", "momentum", "beta1", "beta2", "epsilon", "decay",
                       "clip_norm", "step"});
  OptimizerConfig o;
  o.kind = r.name("kind", parse_optimizer);
  o.learning_rate = r.number("learning_rate");
  o.momentum = r.number("momentum");
  o.beta1 = r.number("beta1");
  o.beta2 = r.number("beta2");
  o.epsilon = r.number("epsilon");
  o.decay = r.number("decay");
  o.clip_norm = r.number("clip_norm");
  step = r.integer("step", 0, std::numeric_limits<std::int64_t>::max());
  try {
    o.validate();
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
  return o;
}

TrainingState training_from_json(const nlohmann::json& j, const std::string& what,
                                 bool with_data_json) {
  std::vector<std::string> fields = {"epoch", "step", "best_valid_loss",
                                     "epochs_without_improvement", "rng_state"};
  if (with_data_json) fields.push_back("data_json");  // format 1 kept it here
  const FieldReader r(j, what, fields);
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  TrainingState t;
  t.epoch = r.integer("epoch", 0, kMax);
  t.step = r.integer("step", 0, kMax);
  if (r.value("best_valid_loss").is_null())
    t.best_valid_loss = std::numeric_limits<double>::infinity();
  else if (r.value("best_valid_loss").is_number())
    t.best_valid_loss = r.number("best_valid_loss");
  else
    throw Error(what + ": best_valid_loss is " + FieldReader::describe(r.value("best_valid_loss")) +
                " (allowed: a number, or null for none yet)");
  t.epochs_without_improvement = r.integer("epochs_without_improvement", 0, kMax);
  t.rng_state = r.string("rng_state");
  if (with_data_json) t.data_json = r.string("data_json");
  return t;
}

Vocabulary vocab_from_json(const nlohmann::json& j, const std::string& what) {
  if (!j.is_array())
    throw Error(what + " is a JSON " + j.type_name() + " (expected an array of symbols)");
  std::vector<std::string> symbols;
  for (const auto& s : j) {
    if (!s.is_string())
      throw Error(what + ": symbol " + std::to_string(symbols.size() + 1) + " is " +
                  FieldReader::describe(s) + " (allowed: strings of one character)");
    symbols.push_back(s.get<std::string>());
  }
  try {
    return Vocabulary::from_symbols(symbols);
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
}

// The JSON text of a metadata key (required or optional), parsed; null when absent and
// optional.
nlohmann::json metadata_json(const SafetensorsMetadata& metadata, const std::string& key,
                             bool required, const std::string& source,
                             const std::string& expected) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) {
    if (!required) return nullptr;
    throw Error(source + ": no " + in_quotes(key) +
                " in the __metadata__ (every s2s checkpoint has format, config, source_vocab, "
                "target_vocab and training)");
  }
  const std::string what = source + ": __metadata__ " + in_quotes(key);
  return parse_json_unique_keys(it->second.data(), it->second.data() + it->second.size(), what,
                                expected);
}

// What each metadata key holds, for messages (docs/CHECKPOINT.md has the whole schema).
const char kConfigExpected[] =
    "a JSON object of the model config: cell, hidden_size, layers, mode, input, "
    "source_vocab_size, source_features, embedding_size, output, target_vocab_size, "
    "target_features, max_target_length";
const char kVocabExpected[] = "a JSON array of one-character strings, in id order";
const char kOptimizerExpected[] =
    "a JSON object: kind, learning_rate, momentum, beta1, beta2, epsilon, decay, clip_norm, step";
const char kTrainingExpected[] =
    "a JSON object: epoch, step, best_valid_loss, epochs_without_improvement, rng_state";
const char kDataExpected[] = "a JSON object describing the training data";

// A data description (TrainingState::data_json) must be empty or a JSON object within the
// nesting limit: info, predict, eval and resume parse it.
void check_data_json(const std::string& text, const std::string& what) {
  if (text.empty()) return;
  const nlohmann::json j =
      parse_json_unique_keys(text.data(), text.data() + text.size(), what, kDataExpected);
  if (!j.is_object())
    throw Error(what + " is a JSON " + j.type_name() + " (expected " + kDataExpected + ")");
}

// Checks a tensor's dtype and shape against the layout and copies its values.
void read_tensor(const SafetensorsFile& file, const std::string& name, const Shape& shape,
                 float* out) {
  const SafetensorsEntry* entry = file.find(name);
  if (!entry)
    throw Error(file.source() + ": missing tensor " + in_quotes(name) +
                " (the config needs it, F32 " + shape_string(shape) + ")");
  if (entry->dtype != "F32")
    throw Error(file.source() + ": tensor " + in_quotes(name) + " has dtype " + entry->dtype +
                " (allowed: F32)");
  if (entry->shape != shape)
    throw Error(file.source() + ": tensor " + in_quotes(name) + " has shape " +
                shape_string(entry->shape) + ", the config needs " + shape_string(shape));
  if (out) std::memcpy(out, file.data(*entry), entry->end - entry->begin);
}

// ---- Writing. ----

// The temporary file of a save to path by process pid.
std::string temporary_name(const std::string& path, long pid) {
  return path + ".tmp-" + std::to_string(pid);
}

// Removes the temporary files that killed saves left in folder: "<name>.tmp-<pid>" regular files
// whose process no longer exists (kill(pid, 0) fails with ESRCH) and whose bytes begin as every
// file save_checkpoint writes begins (an 8-byte length, then {"__metadata__":{"), so that only
// s2s's own leftovers are ever removed. Best effort: anything unclear is left alone.
void remove_stale_temporaries(const std::string& folder) {
  DIR* dir = ::opendir(folder.c_str());
  if (!dir) return;
  static const std::string kMarker = ".tmp-";
  static const std::string kStart = "{\"__metadata__\":{\"";
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    const auto mark = name.rfind(kMarker);
    if (mark == std::string::npos || mark == 0) continue;
    const std::string digits = name.substr(mark + kMarker.size());
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const long pid = std::stol(digits);
    if (pid <= 0 || pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    const std::string path = folder + "/" + name;
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat info;
    char head[8 + 20];
    ssize_t got = -1;
    if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) got = ::read(fd, head, sizeof head);
    ::close(fd);
    // Empty (killed right after creating it), or the 8-byte length of a header within the
    // limit followed by the start of one; 1 to 7 bytes prove nothing.
    if (got != 0 && got < 8) continue;
    if (got >= 8) {
      std::uint64_t length = 0;
      for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(head[i]);
      const std::size_t text = static_cast<std::size_t>(got) - 8;
      if (length > limits::kMaxHeaderBytes ||
          kStart.compare(0, std::min(text, kStart.size()), head + 8,
                         std::min(text, kStart.size())) != 0)
        continue;
    }
    ::unlink(path.c_str());
  }
  ::closedir(dir);
}

// Writes pieces to path atomically: a temporary file in the same folder, flushed to disk, then
// renamed over path. On failure the temporary file is removed and path is untouched.
void write_atomically(const std::string& path,
                      const std::vector<std::pair<const char*, std::size_t>>& pieces,
                      const std::string& what) {
  const auto slash = path.find_last_of('/');
  const std::string folder = slash == std::string::npos ? "."
                             : slash == 0               ? "/"
                                                        : path.substr(0, slash);
  if (slash != std::string::npos && slash + 1 == path.size())
    throw Error(what + ": the path ends with '/' (give a file name)");
  struct stat info;
  if (::stat(folder.c_str(), &info) != 0) {
    const int err = errno;
    if (err == ENOENT)
      throw Error(what + ": the folder " + in_quotes(folder) + " does not exist (create it first)");
    throw Error(what + ": cannot use the folder " + in_quotes(folder) + ": " + std::strerror(err));
  }
  if (!S_ISDIR(info.st_mode))
    throw Error(what + ": " + in_quotes(folder) + " is not a folder (it is a file)");

  remove_stale_temporaries(folder);
  const std::string temporary = temporary_name(path, ::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    throw Error(what + ": cannot create " + in_quotes(temporary) + " in the folder " +
                in_quotes(folder) + ": " + std::strerror(err));
  }
  const auto fail = [&](const std::string& step) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temporary.c_str());
    throw Error(what + ": " + step + " " + in_quotes(temporary) + " failed: " + std::strerror(err));
  };
  for (const auto& [data, size] : pieces) {
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::write(fd, data + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("writing");
      done += static_cast<std::size_t>(n);
    }
  }
  if (::fsync(fd) != 0) fail("flushing");
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) fail("closing");
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temporary.c_str());
    throw Error(what + ": renaming " + in_quotes(temporary) + " to " + in_quotes(path) +
                " failed: " + std::strerror(err));
  }
  // Make the rename itself durable; the file is complete either way, so failure is ignored.
  const int folder_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder_fd >= 0) {
    ::fsync(folder_fd);
    ::close(folder_fd);
  }
}

// The tensors and metadata of a checked checkpoint, pointing into it.
struct Contents {
  std::vector<SafetensorsTensorRef> tensors;
  SafetensorsMetadata metadata;
};

Contents contents_of(const CheckpointData& c) {
  Contents out;
  const auto layout = parameter_layout(c.config);
  auto add = [&](const std::string& name, const ParameterInfo& info, const float* values) {
    out.tensors.push_back(
        {name, "F32", info.shape, values + info.offset, info.size() * sizeof(float)});
  };
  for (const auto& info : layout) add(info.name, info, c.parameters.data());
  for (const auto& [state, values] : c.optimizer_state)
    for (const auto& info : layout) add(state_tensor_name(state, info.name), info, values.data());

  const auto text = [](const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::strict);
  };
  out.metadata["format"] = text(kFormat);
  out.metadata["s2s_version"] = text(S2S_VERSION_STRING);
  out.metadata["special_tokens"] = text(special_tokens_json());
  out.metadata["decoder"] = text(decoder_json(c.config.mode));
  out.metadata["config"] = text(config_json(c.config));
  out.metadata["source_vocab"] = text(vocab_json(c.source_vocab));
  out.metadata["target_vocab"] = text(vocab_json(c.target_vocab));
  if (c.has_optimizer)
    out.metadata["optimizer"] = text(optimizer_json(c.optimizer, c.optimizer_step));
  out.metadata["training"] = text(training_json(c.training));
  // Already JSON text (check_checkpoint made sure): stored as it is, not inside another string.
  if (!c.training.data_json.empty()) out.metadata["data"] = c.training.data_json;
  return out;
}

}  // namespace

void check_checkpoint(const CheckpointData& c, const std::string& what) {
  const auto fail = [&](const std::string& problem) { throw Error(what + ": " + problem); };
  try {
    c.config.validate();
  } catch (const Error& e) {
    fail(e.what());
  }
  const auto check_vocab = [&](const Vocabulary& vocab, bool tokens, int size, const char* side) {
    if (tokens && vocab.size() != size)
      fail(std::string("the ") + side + " vocabulary has " + std::to_string(vocab.size()) +
           " tokens (specials included), the config's " + side + "_vocab_size is " +
           std::to_string(size));
    if (!tokens && !vocab.symbols().empty())
      fail(std::string("the config has ") + side + " features, but a " + side + " vocabulary of " +
           std::to_string(vocab.symbols().size()) + " symbols was given (allowed: an empty one)");
  };
  check_vocab(c.source_vocab, c.config.input != InputKind::features, c.config.source_vocab_size,
              "source");
  check_vocab(c.target_vocab, c.config.output == OutputKind::tokens, c.config.target_vocab_size,
              "target");

  const auto layout = parameter_layout(c.config);
  const std::size_t count = layout_total(layout);
  if (c.parameters.size() != count)
    fail(std::to_string(c.parameters.size()) + " parameters given, the config's layout has " +
         std::to_string(count));
  require_finite(c.parameters, layout, "", what);

  if (c.has_optimizer) {
    try {
      c.optimizer.validate();
    } catch (const Error& e) {
      fail(e.what());
    }
    if (c.optimizer_step < 0)
      fail("optimizer step is " + std::to_string(c.optimizer_step) + " (allowed: 0 or more)");
  }
  const auto expected =
      c.has_optimizer ? optimizer_state_names(c.optimizer) : std::vector<std::string>{};
  std::string expected_list;
  for (const auto& name : expected) expected_list += (expected_list.empty() ? "" : ", ") + name;
  if (c.optimizer_state.size() != expected.size())
    fail(std::to_string(c.optimizer_state.size()) + " optimizer state tensors given, " +
         (c.has_optimizer ? "the " + to_string(c.optimizer.kind) + " optimizer keeps " +
                                std::to_string(expected.size()) +
                                (expected.empty() ? "" : " (" + expected_list + ")")
                          : std::string("there is no optimizer")));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [name, values] = c.optimizer_state[i];
    if (name != expected[i])
      fail("optimizer state " + in_quotes(name) + " given where " + in_quotes(expected[i]) +
           " was expected (the " + to_string(c.optimizer.kind) + " optimizer keeps " +
           expected_list + ")");
    if (values.size() != count)
      fail("optimizer state " + in_quotes(name) + " has " + std::to_string(values.size()) +
           " values, the parameters " + std::to_string(count));
    require_finite(values, layout, name + ".", what);
  }

  const TrainingState& t = c.training;
  // Metadata is JSON text, which holds UTF-8 only.
  const auto check_text = [&](const char* field, const std::string& text) {
    try {
      utf8_characters(text);
    } catch (const Error& e) {
      fail(std::string("training state: ") + field + ": " + e.what() + " (allowed: UTF-8 text)");
    }
  };
  check_text("rng_state", t.rng_state);
  check_text("data_json", t.data_json);
  check_data_json(t.data_json, what + ": training state: data_json");
  if (t.epoch < 0 || t.step < 0 || t.epochs_without_improvement < 0)
    fail("training state: epoch, step and epochs_without_improvement must be 0 or more (given " +
         std::to_string(t.epoch) + ", " + std::to_string(t.step) + ", " +
         std::to_string(t.epochs_without_improvement) + ")");
  if (std::isnan(t.best_valid_loss) ||
      t.best_valid_loss == -std::numeric_limits<double>::infinity())
    fail("training state: best_valid_loss is " + std::to_string(t.best_valid_loss) +
         " (allowed: a finite number, or +infinity for none yet)");
}

CheckpointData checkpoint_of(const Seq2Seq& model, const Vocabulary& source_vocab,
                             const Vocabulary& target_vocab, const TrainingState& training) {
  CheckpointData c;
  c.config = model.config();
  c.source_vocab = source_vocab;
  c.target_vocab = target_vocab;
  c.training = training;
  c.parameters = model.parameters();
  c.optimizer_state = model.optimizer_state();
  c.has_optimizer = model.has_optimizer();
  if (c.has_optimizer) {
    c.optimizer = model.optimizer();
    c.optimizer_step = model.optimizer_step();
  }
  check_checkpoint(c, "checkpoint_of");
  return c;
}

std::string checkpoint_bytes(const CheckpointData& checkpoint, const std::string& what) {
  check_checkpoint(checkpoint, what);
  const Contents contents = contents_of(checkpoint);
  return safetensors_bytes(contents.tensors, contents.metadata, what);
}

void save_checkpoint(const std::string& path, const CheckpointData& checkpoint) {
  const std::string what = "cannot save checkpoint " + in_quotes(path);
  check_checkpoint(checkpoint, what);
  const Contents contents = contents_of(checkpoint);
  const std::string header = safetensors_header(contents.tensors, contents.metadata, what);
  std::vector<std::pair<const char*, std::size_t>> pieces{{header.data(), header.size()}};
  for (const auto& t : contents.tensors)
    pieces.emplace_back(static_cast<const char*>(t.data), t.byte_size);
  write_atomically(path, pieces, what);
}

namespace {
// Everything load_checkpoint checks after the safetensors framing.
CheckpointData checkpoint_from(const SafetensorsFile& file) {
  const std::string& source = file.source();
  const auto& metadata = file.metadata();
  if (metadata.find("format") == metadata.end())
    throw Error(source + ": not an s2s checkpoint: no 'format' in the __metadata__ (expected \"" +
                kFormat + "\")");
  const auto format = metadata_json(metadata, "format", true, source, "a JSON string");
  const bool v1 = format.is_string() && format.get<std::string>() == kFormatV1;
  if (!format.is_string() || (format.get<std::string>() != kFormat && !v1))
    throw Error(source + ": __metadata__ 'format' is " +
                (format.is_string() ? "\"" + format.get<std::string>() + "\""
                                    : std::string("a JSON ") + format.type_name()) +
                " (this version reads \"" + kFormat + "\" and \"" + kFormatV1 +
                "\", as a JSON string)");
  if (!v1) {
    // The ids every s2s model is built around: a file that says otherwise was not written by
    // s2s, and its model would decode wrongly.
    const auto specials =
        metadata_json(metadata, "special_tokens", true, source, "a JSON object of token ids");
    if (specials != nlohmann::json(special_tokens_json()))
      throw Error(source + ": __metadata__ 'special_tokens' is not " +
                  special_tokens_json().dump() +
                  " (s2s vocabularies have pad 0, start 1, end 2 and no unknown token)");
  }

  CheckpointData c;
  c.config = config_from_json(metadata_json(metadata, "config", true, source, kConfigExpected),
                              source + ": __metadata__ 'config'");
  c.source_vocab =
      vocab_from_json(metadata_json(metadata, "source_vocab", true, source, kVocabExpected),
                      source + ": __metadata__ 'source_vocab'");
  c.target_vocab =
      vocab_from_json(metadata_json(metadata, "target_vocab", true, source, kVocabExpected),
                      source + ": __metadata__ 'target_vocab'");
  const auto optimizer = metadata_json(metadata, "optimizer", false, source, kOptimizerExpected);
  c.has_optimizer = !optimizer.is_null();
  if (c.has_optimizer)
    c.optimizer =
        optimizer_from_json(optimizer, source + ": __metadata__ 'optimizer'", c.optimizer_step);
  c.training =
      training_from_json(metadata_json(metadata, "training", true, source, kTrainingExpected),
                         source + ": __metadata__ 'training'", v1);
  if (!v1) {
    const auto data = metadata.find("data");
    if (data != metadata.end()) {
      if (data->second.empty())
        throw Error(source + ": __metadata__ 'data' is empty (expected " + kDataExpected +
                    "; leave the key out when there is none)");
      c.training.data_json = data->second;
    }
  }
  check_data_json(c.training.data_json, source + ": __metadata__ '" +
                                            std::string(v1 ? "training' data_json" : "data'"));

  // Every tensor the config and optimizer imply, with dtype and shape, before any allocation
  // (the layout's sizes come from the file's config and are not yet known to fit the file).
  const auto layout = parameter_layout(c.config);
  const auto states =
      c.has_optimizer ? optimizer_state_names(c.optimizer) : std::vector<std::string>{};
  std::set<std::string> expected;
  for (const auto& info : layout) {
    read_tensor(file, info.name, info.shape, nullptr);
    expected.insert(info.name);
  }
  for (const auto& state : states)
    for (const auto& info : layout) {
      const auto name = state_tensor_name(state, info.name);
      read_tensor(file, name, info.shape, nullptr);
      expected.insert(name);
    }
  for (const auto& entry : file.entries()) {
    if (expected.count(entry.name)) continue;
    const bool optimizer_like = entry.name.rfind(kOptimizerPrefix, 0) == 0;
    if (optimizer_like && !c.has_optimizer)
      throw Error(source + ": optimizer tensor " + in_quotes(entry.name) +
                  " but no 'optimizer' in the __metadata__ (it says which state to expect)");
    throw Error(source + ": unexpected tensor " + in_quotes(entry.name) +
                " (a checkpoint holds the config's parameters and, with an optimizer, "
                "optimizer.<state>.<parameter> for its state)");
  }

  const std::size_t count = layout_total(layout);
  c.parameters.resize(count);
  for (const auto& info : layout)
    read_tensor(file, info.name, info.shape, c.parameters.data() + info.offset);
  for (const auto& state : states) {
    std::vector<float> values(count);
    for (const auto& info : layout)
      read_tensor(file, state_tensor_name(state, info.name), info.shape,
                  values.data() + info.offset);
    c.optimizer_state.emplace_back(state, std::move(values));
  }
  check_checkpoint(c, source);
  return c;
}

}  // namespace

CheckpointData parse_checkpoint(std::string bytes, const std::string& source) {
  return checkpoint_from(SafetensorsFile::parse(std::move(bytes), source));
}

CheckpointData load_checkpoint(const std::string& path) {
  return checkpoint_from(SafetensorsFile::read(path));
}

Seq2Seq model_from_checkpoint(const CheckpointData& checkpoint, BackendKind backend,
                              Precision precision) {
  check_checkpoint(checkpoint, "model_from_checkpoint");
  Seq2Seq model(checkpoint.config, 0, backend, precision);
  model.set_parameters(checkpoint.parameters);
  if (checkpoint.has_optimizer) {
    model.set_optimizer(checkpoint.optimizer);
    model.set_optimizer_state(checkpoint.optimizer_step, checkpoint.optimizer_state);
  }
  return model;
}

}  // namespace s2s
