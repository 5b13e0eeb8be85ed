// Where the tool's data comes from (a built-in task or pair files), how it is recorded in a
// checkpoint's data_json so that resume, eval and predict find it again, and how inputs and
// outputs are shown to users (Keras-style padding and reversal undone, progression numbers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "s2s/checkpoint.h"
#include "s2s/sequences.h"
#include "s2s/tasks.h"

namespace s2s::cli {

// The built-in tasks the tool knows: the library's text tasks and progression.
std::vector<std::string> tool_task_names();
std::string joined(const std::vector<std::string>& names, const char* separator = ", ");

// Which task options a flag applies to; throws Error naming the flag and the tasks it is for.
void check_task_flag(const std::string& task, const std::string& flag);
// The task's options with every 0 replaced by its default (progression included: digits is the
// sequence length, default 10; size the number of sequences, default 50).
TaskOptions resolved_task_options(const std::string& task, TaskOptions options);
// The task's pairs as text; progression's numbers as space-separated decimal numbers.
std::vector<TextPair> task_text_pairs(const std::string& task, const TaskOptions& options);

// How inputs and outputs look to users.
struct Presentation {
  bool numbers = false;        // progression: inputs and outputs are numbers 0..modulus-1
  int modulus = 0;
  int input_width = 0;         // typed inputs are space-padded to this width (0 = as typed)
  bool input_reversed = false;  // ... then reversed (addition/subtraction --reverse)
  bool trim_targets = false;   // targets are space-padded: shown without trailing spaces
  int max_source_length = 0;   // longest source seen in training; predict refuses longer ones

  nlohmann::json to_json() const;
  static Presentation from_json(const nlohmann::json& j);
  static Presentation for_task(const std::string& task, const TaskOptions& options);

  // Example i's source as a user would type it; a target (ids without end) as text.
  std::string show_source(const SequenceData& data, std::size_t i) const;
  std::string show_tokens(const Vocabulary& vocab, const std::vector<std::int32_t>& ids) const;

  // Typed inputs as model sources (padded and reversed unless raw). Each error names the
  // input by labels[i] ("argument 2", "line 5") and says what is allowed.
  SequenceData encode_inputs(const std::vector<std::string>& inputs,
                             const std::vector<std::string>& labels,
                             const CheckpointData& checkpoint, bool raw) const;
};

// Everything about a training run's data, as stored in TrainingState.data_json.
struct DataSpec {
  std::string task;        // built-in task, or empty for pair files
  TaskOptions options;     // resolved task options (seed included)
  std::string data_file;   // absolute path of the training pairs (no task)
  std::string valid_file;  // absolute path of validation pairs, or empty
  double valid_split = 0.1;
  std::uint64_t seed = 1;  // model initialisation; split and shuffles derive from it

  std::uint64_t split_seed() const { return seed + 1000003; }
  std::uint64_t shuffle_seed() const { return seed + 2000003; }

  nlohmann::json to_json() const;
  static DataSpec from_json(const nlohmann::json& j);  // throws Error for a malformed record
};

struct LoadedData {
  SequenceData train;
  SequenceData valid;  // empty when there is no validation set
  Presentation presentation;
};
// Generates or reads the data, builds the vocabularies over training and validation examples,
// and splits off validation. Throws Error naming the file and line for bad pair files.
LoadedData load_training_data(const DataSpec& spec);

// A task's examples or a pair file's, encoded with a checkpoint's vocabularies (eval).
SequenceData task_examples_for(const std::string& task, const TaskOptions& options,
                               const CheckpointData& checkpoint);
SequenceData file_examples_for(const std::string& path, const CheckpointData& checkpoint);

// The checkpoint's data_json as JSON ({} when empty); Error when it is not an object.
nlohmann::json data_json_of(const CheckpointData& checkpoint);

}  // namespace s2s::cli
