// Data sources of the tool: built-in tasks and pair files, their record in data_json, and how
// inputs and outputs are presented to users.
#include "cli/data_spec.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "io/regular_file.h"
#include "io/safetensors.h"
#include "s2s/error.h"
#include "s2s/limits.h"

namespace s2s::cli {

namespace {
using Json = nlohmann::json;

void require_known_task(const std::string& task) {
  const auto names = tool_task_names();
  if (std::find(names.begin(), names.end(), task) == names.end())
    throw Error("unknown task '" + task + "' (allowed: " + joined(names) + ")");
}

ProgressionOptions progression_options(const TaskOptions& o) {
  ProgressionOptions p;
  p.length = o.digits;
  p.size = o.size;
  p.seed = o.seed;
  return p;
}

std::string numbers_text(const std::vector<int>& numbers) {
  std::string s;
  for (std::size_t i = 0; i < numbers.size(); ++i)
    s += (i ? " " : "") + std::to_string(numbers[i]);
  return s;
}

std::string trim_right(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string absolute_path(const std::string& path) {
  return std::filesystem::absolute(std::filesystem::path(path)).lexically_normal().string();
}

// Untrusted text for a message: at most 40 bytes, control characters as '?'.
std::string shortened(const std::string& text) {
  std::string out = text.size() > 40 ? text.substr(0, 40) + "..." : text;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  return out;
}

// A short description of an untrusted JSON value: numbers, booleans and short strings as
// written, anything else by type.
std::string describe(const Json& v) {
  if (v.is_number() || v.is_boolean()) return v.dump();
  if (v.is_string() && v.get_ref<const std::string&>().size() <= 40) return v.dump();
  return std::string("a JSON ") + v.type_name();
}

// Reads a JSON field with a clear message when it is missing or has the wrong type.
template <typename T>
T field(const Json& j, const char* name, const char* what) {
  if (!j.contains(name))
    throw Error(std::string(what) + ": the checkpoint's data_json lacks '" + name + "'");
  try {
    return j.at(name).get<T>();
  } catch (const Json::exception&) {
    throw Error(std::string(what) + ": the checkpoint's data_json has a malformed '" + name +
                "': " + describe(j.at(name)));
  }
}

// An optional presentation field: absent gives fallback; otherwise a value of the JSON type
// `is` checks and, for integers, in [low, high]. Throws naming the field and what is allowed.
bool flag_field(const Json& j, const char* name) {
  if (!j.contains(name)) return false;
  if (!j[name].is_boolean())
    throw Error(std::string("the checkpoint's data_json: presentation.") + name + " is " +
                describe(j[name]) + " (allowed: true or false)");
  return j[name].get<bool>();
}
int int_field(const Json& j, const char* name, int low, int high) {
  if (!j.contains(name)) return 0;
  const Json& v = j[name];
  const bool integral = v.is_number_integer() || v.is_number_unsigned();
  if (!integral || v.get<long long>() < low || v.get<long long>() > high)
    throw Error(std::string("the checkpoint's data_json: presentation.") + name + " is " +
                describe(v) + " (allowed: a whole number from " + std::to_string(low) + " to " +
                std::to_string(high) + ")");
  return static_cast<int>(v.get<long long>());
}

// A pair file's bytes (a regular file within limits::kMaxPairFileBytes) and whether its first
// line declares real-valued pairs.
struct PairFileText {
  std::string bytes;
  bool numbers = false;
};
PairFileText read_pair_file(const std::string& path) {
  PairFileText f;
  f.bytes = read_regular_file(path, limits::kMaxPairFileBytes, "pair file");
  std::string first = f.bytes.substr(0, std::min(f.bytes.find('\n'), std::size_t{200}));
  if (!first.empty() && first.back() == '\r') first.pop_back();
  f.numbers = holds_number_pairs(first);
  return f;
}
SequenceData number_pairs_of(const PairFileText& f, const std::string& path) {
  std::istringstream in(f.bytes);
  return parse_number_pairs(in, path);
}
std::vector<TextPair> text_pairs_of(const PairFileText& f, const std::string& path) {
  std::istringstream in(f.bytes);
  return parse_pairs(in, path);
}
}  // namespace

std::vector<std::string> tool_task_names() {
  auto names = task_names();
  names.push_back("progression");
  return names;
}

std::string joined(const std::vector<std::string>& names, const char* separator) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : separator) + n;
  return s;
}

void check_task_flag(const std::string& task, const std::string& flag) {
  std::vector<std::string> tasks;
  if (flag == "--digits") tasks = {"addition", "subtraction", "copy", "reverse", "progression"};
  if (flag == "--reverse") tasks = {"addition", "subtraction"};
  if (flag == "--max-dashes") tasks = {"pq"};
  if (!tasks.empty() && std::find(tasks.begin(), tasks.end(), task) == tasks.end())
    throw Error(flag + " does not apply to task " + task + " (it is for: " + joined(tasks) +
                ")");
}

TaskOptions resolved_task_options(const std::string& task, TaskOptions options) {
  require_known_task(task);
  if (task != "progression") return task_defaults(task, options);
  require(options.form != TaskForm::padded,
          "task progression has no padded form (padded applies to addition, subtraction and pq)");
  options.form = TaskForm::natural;
  if (options.digits == 0) options.digits = 10;
  if (options.size == 0) options.size = 50;
  generate_progression(progression_options(options));  // validates (50 tiny sequences: cheap)
  return options;
}

std::vector<TextPair> task_text_pairs(const std::string& task, const TaskOptions& options) {
  require_known_task(task);
  if (task != "progression") return generate_task(task, options);
  const TaskOptions o = resolved_task_options(task, options);
  const SequenceData data = generate_progression(progression_options(o));
  const int modulus = data.target_vocab.size() - Vocabulary::special_count;
  std::vector<TextPair> pairs;
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::vector<int> source, target;
    for (double v : data.source_values[i])
      source.push_back(static_cast<int>(std::lround(v * modulus)));
    for (std::int32_t id : data.targets[i]) target.push_back(progression_number(id));
    pairs.push_back({numbers_text(source), numbers_text(target)});
  }
  return pairs;
}

// ---- Presentation ---------------------------------------------------------------------------

Json Presentation::to_json() const {
  return Json{{"numbers", numbers},
              {"modulus", modulus},
              {"input_width", input_width},
              {"input_reversed", input_reversed},
              {"trim_targets", trim_targets},
              {"max_source_length", max_source_length}};
}

Presentation Presentation::from_json(const Json& j) {
  Presentation p;
  if (!j.is_object()) return p;  // a checkpoint written by other code: inputs as typed
  // Every value is checked against its limit before predict pads or allocates by it.
  p.numbers = flag_field(j, "numbers");
  p.modulus = int_field(j, "modulus", 0, limits::kMaxNumberModulus);
  p.input_width = int_field(j, "input_width", 0, limits::kMaxSequenceLength);
  p.input_reversed = flag_field(j, "input_reversed");
  p.trim_targets = flag_field(j, "trim_targets");
  p.max_source_length = int_field(j, "max_source_length", 0, limits::kMaxSequenceLength);
  if (p.numbers && p.modulus < 2)
    throw Error("the checkpoint's data_json: presentation.numbers is true but modulus is " +
                std::to_string(p.modulus) + " (allowed with numbers: 2 to " +
                std::to_string(limits::kMaxNumberModulus) + ")");
  return p;
}

Presentation Presentation::for_task(const std::string& task, const TaskOptions& o) {
  Presentation p;
  if (task == "progression") {
    p.numbers = true;
    p.modulus = ProgressionOptions{}.modulus;
  } else if (task == "addition" || task == "subtraction") {
    const bool pad = o.form == TaskForm::padded;
    p.input_width = pad ? 2 * o.digits + 1 : 0;
    p.input_reversed = o.reverse;
    p.trim_targets = pad;
  } else if (task == "pq" && o.form == TaskForm::padded) {
    p.input_width = 2 * o.max_dashes + 1;
    p.trim_targets = true;
  }
  return p;
}

std::string Presentation::show_source(const SequenceData& data, std::size_t i) const {
  if (data.feature_sources()) {
    std::vector<int> numbers;
    for (double v : data.source_values[i])
      numbers.push_back(static_cast<int>(std::lround(v * (modulus > 0 ? modulus : 1))));
    return numbers_text(numbers);
  }
  std::vector<std::int32_t> ids = data.source_tokens[i];
  if (input_reversed) std::reverse(ids.begin(), ids.end());
  const std::string text = data.source_vocab.decode(ids);
  return input_width > 0 ? trim_right(text) : text;
}

std::string Presentation::show_tokens(const Vocabulary& vocab,
                                      const std::vector<std::int32_t>& ids) const {
  if (numbers) {
    std::vector<int> out;
    for (std::int32_t id : ids) {
      if (id == Vocabulary::end_id) break;
      if (id >= Vocabulary::special_count) out.push_back(progression_number(id));
    }
    return numbers_text(out);
  }
  const std::string text = vocab.decode(ids);
  return trim_targets ? trim_right(text) : text;
}

SequenceData Presentation::encode_inputs(const std::vector<std::string>& inputs,
                                         const std::vector<std::string>& labels,
                                         const CheckpointData& checkpoint, bool raw) const {
  SequenceData data;
  data.source_vocab = checkpoint.source_vocab;
  data.target_vocab = checkpoint.target_vocab;
  const ModelConfig& config = checkpoint.config;
  const bool features = config.input == InputKind::features;
  if (features) data.source_features = config.source_features;
  const std::string limit_reason =
      " (the longest input in the model's training data, recorded in its checkpoint)";
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string& label = labels[i];
    const std::string& input = inputs[i];
    if (features) {
      require(numbers && config.source_features == 1,
              "this model takes real-valued inputs the tool does not know how to read (only "
              "progression models' numbers are supported)");
      std::vector<double> values;
      std::string token;
      int position = 0;
      auto flush = [&] {
        if (token.empty()) return;
        ++position;
        std::size_t used = 0;
        long long n = -1;
        try {
          n = std::stoll(token, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != token.size() || n < 0 || n >= modulus)
          throw Error(label + ": '" + shortened(token) + "' at position " + std::to_string(position) +
                      " is not a whole number from 0 to " + std::to_string(modulus - 1));
        values.push_back(static_cast<double>(n) / modulus);
        token.clear();
      };
      for (char c : input) {
        if (c == ' ' || c == ',' || c == '\t')
          flush();
        else
          token += c;
      }
      flush();
      require(!values.empty(), label + ": the input is empty (expected numbers from 0 to " +
                                   std::to_string(modulus - 1) + ")");
      if (max_source_length > 0 && static_cast<int>(values.size()) > max_source_length)
        throw Error(label + ": the input has " + std::to_string(values.size()) +
                    " numbers; this model allows at most " + std::to_string(max_source_length) +
                    limit_reason);
      data.source_values.push_back(std::move(values));
      continue;
    }
    std::vector<std::string> chars;
    try {
      chars = utf8_characters(input);
    } catch (const Error& e) {
      throw Error(label + ": " + e.what());
    }
    require(!chars.empty(), label + ": the input is empty");
    for (std::size_t k = 0; k < chars.size(); ++k)
      if (!checkpoint.source_vocab.contains(chars[k]))
        throw Error(label + ": character '" + chars[k] + "' at position " +
                    std::to_string(k + 1) + " is not in the model's vocabulary (allowed: '" +
                    joined(checkpoint.source_vocab.symbols(), "', '") + "')");
    if (!raw && input_width > 0) {
      if (static_cast<int>(chars.size()) > input_width)
        throw Error(label + ": '" + shortened(input) + "' is " + std::to_string(chars.size()) +
                    " characters long; this model allows at most " + std::to_string(input_width) +
                    " (the task's query width)");
      chars.resize(static_cast<std::size_t>(input_width), " ");
    }
    if (!raw && input_reversed) std::reverse(chars.begin(), chars.end());
    if (max_source_length > 0 && static_cast<int>(chars.size()) > max_source_length)
      throw Error(label + ": the input is " + std::to_string(chars.size()) +
                  " characters long; this model allows at most " +
                  std::to_string(max_source_length) + limit_reason);
    std::string text;
    for (auto& c : chars) text += c;
    data.source_tokens.push_back(checkpoint.source_vocab.encode(text));
  }
  return data;
}

// ---- DataSpec -------------------------------------------------------------------------------

Json DataSpec::to_json() const {
  Json j;
  if (!task.empty()) {
    j["task"] = task;
    j["options"] = Json{{"digits", options.digits},
                        {"reverse", options.reverse},
                        {"max_dashes", options.max_dashes},
                        {"size", options.size},
                        {"seed", options.seed},
                        {"presentation", to_string(options.form)}};
  } else {
    // Absolute, so that a run resumed from another folder reads the same files.
    j["data"] = absolute_path(data_file);
    j["valid"] = valid_file.empty() ? Json() : Json(absolute_path(valid_file));
  }
  j["valid_split"] = valid_split;
  j["seed"] = seed;
  return j;
}

DataSpec DataSpec::from_json(const Json& j) {
  const char* what = "resume";
  require(j.is_object(), "resume: the checkpoint's data_json is not a JSON object");
  DataSpec s;
  if (j.contains("task")) {
    s.task = field<std::string>(j, "task", what);
    const Json o = field<Json>(j, "options", what);
    s.options.digits = field<int>(o, "digits", what);
    s.options.reverse = field<bool>(o, "reverse", what);
    s.options.max_dashes = field<int>(o, "max_dashes", what);
    s.options.size = field<int>(o, "size", what);
    s.options.seed = field<std::uint64_t>(o, "seed", what);
    // Checkpoints from before the natural form were trained on the seeds' padded pairs.
    s.options.form = o.contains("presentation")
                         ? parse_task_form(field<std::string>(o, "presentation", what))
                         : (s.task == "addition" || s.task == "subtraction" || s.task == "pq"
                                ? TaskForm::padded
                                : TaskForm::natural);
  } else if (j.contains("data")) {
    s.data_file = field<std::string>(j, "data", what);
    if (j.contains("valid") && !j["valid"].is_null())
      s.valid_file = field<std::string>(j, "valid", what);
  } else {
    throw Error("resume: the checkpoint's data_json names neither a task nor a data file (was "
                "it written by `s2s train`?)");
  }
  s.valid_split = field<double>(j, "valid_split", what);
  s.seed = field<std::uint64_t>(j, "seed", what);
  return s;
}

LoadedData load_training_data(const DataSpec& spec) {
  LoadedData out;
  if (spec.task == "progression") {
    const SequenceData all = generate_progression(progression_options(spec.options));
    if (spec.valid_split > 0) {
      auto split = split_validation(all, spec.valid_split, spec.split_seed());
      out.train = std::move(split.train);
      out.valid = std::move(split.valid);
    } else {
      out.train = all;
    }
    out.presentation = Presentation::for_task(spec.task, spec.options);
  } else {
    std::vector<TextPair> pairs;
    std::size_t n_train = 0;
    SequenceData all;
    const PairFileText file =
        spec.task.empty() ? read_pair_file(spec.data_file) : PairFileText{};
    if (!spec.task.empty()) {
      pairs = generate_task(spec.task, spec.options);
      n_train = pairs.size();
      out.presentation = Presentation::for_task(spec.task, spec.options);
    } else if (file.numbers) {
      // Real-valued pairs (what `s2s gen --task progression` writes): presented as numbers.
      all = number_pairs_of(file, spec.data_file);
      n_train = all.size();
      if (!spec.valid_file.empty()) {
        const PairFileText valid_file = read_pair_file(spec.valid_file);
        require(valid_file.numbers,
                "--valid " + spec.valid_file + ": the training pairs are real-valued (" +
                    number_pairs_header(all.target_vocab.size() - Vocabulary::special_count) +
                    "), so the validation pairs must be too");
        const SequenceData valid = number_pairs_of(valid_file, spec.valid_file);
        require(valid.target_vocab.size() == all.target_vocab.size(),
                "--valid " + spec.valid_file + ": its modulus differs from the training pairs'");
        all.source_values.insert(all.source_values.end(), valid.source_values.begin(),
                                 valid.source_values.end());
        all.targets.insert(all.targets.end(), valid.targets.begin(), valid.targets.end());
      }
      out.presentation.numbers = true;
      out.presentation.modulus = all.target_vocab.size() - Vocabulary::special_count;
    } else {
      pairs = text_pairs_of(file, spec.data_file);
      n_train = pairs.size();
      if (!spec.valid_file.empty()) {
        const auto valid = read_pairs(spec.valid_file);
        pairs.insert(pairs.end(), valid.begin(), valid.end());
      }
    }
    // One vocabulary over training and validation text, so validation never meets an unknown
    // character.
    if (!file.numbers) all = sequence_data(encode_pairs(pairs));
    if (n_train < all.size()) {
      std::vector<std::size_t> train_idx(n_train), valid_idx(all.size() - n_train);
      for (std::size_t i = 0; i < n_train; ++i) train_idx[i] = i;
      for (std::size_t i = 0; i < valid_idx.size(); ++i) valid_idx[i] = n_train + i;
      out.train = select(all, train_idx);
      out.valid = select(all, valid_idx);
    } else if (spec.valid_split > 0) {
      auto split = split_validation(all, spec.valid_split, spec.split_seed());
      out.train = std::move(split.train);
      out.valid = std::move(split.valid);
    } else {
      out.train = all;
    }
  }
  out.presentation.max_source_length =
      std::max(out.train.max_source_length(), out.valid.max_source_length());
  return out;
}

SequenceData task_examples_for(const std::string& task, const TaskOptions& options,
                               const CheckpointData& checkpoint) {
  if (task == "progression") {
    require(checkpoint.config.input == InputKind::features,
            "task progression has real-valued inputs but this model's input is " +
                to_string(checkpoint.config.input));
    SequenceData data = generate_progression(progression_options(options));
    require(data.target_vocab.size() == checkpoint.target_vocab.size(),
            "task progression has " + std::to_string(data.target_vocab.size()) +
                " target ids but this model has " +
                std::to_string(checkpoint.target_vocab.size()));
    return data;
  }
  require(checkpoint.config.input != InputKind::features,
          "task " + task + " has text inputs but this model takes real-valued features");
  return sequence_data(
      encode_pairs(generate_task(task, options), checkpoint.source_vocab, checkpoint.target_vocab));
}

SequenceData file_examples_for(const std::string& path, const CheckpointData& checkpoint) {
  const PairFileText file = read_pair_file(path);
  const bool features = checkpoint.config.input == InputKind::features;
  if (file.numbers) {
    SequenceData data = number_pairs_of(file, path);
    require(features && checkpoint.config.source_features == 1,
            path + ": the file holds real-valued pairs (" +
                number_pairs_header(data.target_vocab.size() - Vocabulary::special_count) +
                ") but this model takes text");
    require(data.target_vocab.size() == checkpoint.target_vocab.size(),
            path + ": the file's targets are numbers 0 to " +
                std::to_string(data.target_vocab.size() - Vocabulary::special_count - 1) +
                ", this model's are 0 to " +
                std::to_string(checkpoint.target_vocab.size() - Vocabulary::special_count - 1));
    data.target_vocab = checkpoint.target_vocab;
    return data;
  }
  require(!features, path + ": the file holds text pairs but this model takes real-valued inputs "
                            "(give a file that starts with '#s2s-numbers modulus=M', as `s2s gen "
                            "--task progression` writes)");
  const auto pairs = text_pairs_of(file, path);
  try {
    return sequence_data(encode_pairs(pairs, checkpoint.source_vocab, checkpoint.target_vocab));
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

Json data_json_of(const CheckpointData& checkpoint) {
  const std::string& text = checkpoint.training.data_json;
  if (text.empty()) return Json::object();
  // Depth-bounded, with a message naming the field (load_checkpoint has checked it already;
  // CheckpointData made in code has not).
  Json j = parse_json_unique_keys(text.data(), text.data() + text.size(),
                                  "the checkpoint's data_json", "a JSON object");
  require(j.is_object(), "the checkpoint's data_json is not a JSON object");
  return j;
}

}  // namespace s2s::cli
