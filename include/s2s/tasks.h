// Built-in tasks (the seeds' data, generated) and users' pair files, as text pairs.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "s2s/batch.h"
#include "s2s/vocab.h"

namespace s2s {

struct TextPair {
  std::string input;
  std::string target;
};

// How a generated task writes its pairs. padded: as its seed does (addition and subtraction:
// query and answer space-padded to fixed widths; pq: both space-padded to 2*max_dashes+1), so
// the model must count trailing spaces. natural: the same pairs at their own lengths (the model
// appends an end token to targets and masks the loss beyond it). Tasks whose seed does not pad
// (digits-words, copy, reverse) are natural either way and accept natural only.
enum class TaskForm { automatic, natural, padded };
std::string to_string(TaskForm form);
// "natural" or "padded"; throws Error naming the value and the allowed ones.
TaskForm parse_task_form(const std::string& name);

// Options of the generated tasks; 0 means the task's default (see task_defaults()).
struct TaskOptions {
  int digits = 0;      // addition, subtraction: digits per operand; copy, reverse: max length
  bool reverse = false;  // addition, subtraction: reverse the query (Keras' REVERSE)
  int max_dashes = 0;  // pq: dashes per operand at most
  int size = 0;        // number of pairs
  std::uint64_t seed = 1;
  // automatic: the task's default, natural for pq and the unpadded tasks, padded for addition
  // and subtraction (their seed-reproduction rows and measured defaults).
  TaskForm form = TaskForm::automatic;
};

// Names of the text tasks: digits-words, addition, subtraction, pq, copy, reverse.
std::vector<std::string> task_names();
// The task's options with every 0 replaced by its default.
TaskOptions task_defaults(const std::string& task, TaskOptions options = {});

// Generates a task's pairs as the seeds do: digits-words (seed 000, the nine pairs
// "1" -> "one"); addition and subtraction (seed 001: operands of 1..digits random digits,
// each unordered pair once, the query space-padded to 2*digits+1 and reversed on request, the
// answer space-padded to digits+1); pq (seed 001: "-..p-..." -> "q-...", space-padded to
// 2*max_dashes+1); copy and reverse (random digit strings of 1..digits characters). The
// natural form leaves the padding out; the operands drawn are the same in both forms.
// Throws Error for an unknown task or options out of range (naming them and what is allowed).
std::vector<TextPair> generate_task(const std::string& task, const TaskOptions& options);

// Reads UTF-8 lines "input<TAB>target[<TAB>ignored...]" (the Anki/Tatoeba format). Blank
// lines are skipped; a trailing '\r' is dropped. Throws Error naming the source and line for:
// a missing tab, an empty input or target, invalid UTF-8, a line longer than
// limits::kMaxLineBytes, a real-valued file's "#s2s-numbers" first line (sequences.h), or no
// pairs at all.
std::vector<TextPair> parse_pairs(std::istream& in, const std::string& source_name);
// parse_pairs on a file; throws Error (naming the path) when it cannot be opened, is not a
// regular file (after following links: a FIFO or a device is refused before it is opened for
// reading) or is larger than limits::kMaxPairFileBytes.
std::vector<TextPair> read_pairs(const std::string& path);

// Text pairs as token ids through the two vocabularies (built from the pairs when empty).
struct TokenDataset {
  Vocabulary source_vocab;
  Vocabulary target_vocab;
  std::vector<std::vector<std::int32_t>> sources;
  std::vector<std::vector<std::int32_t>> targets;  // without the end token
  std::size_t size() const { return sources.size(); }
};
// Encodes pairs; with empty vocabularies they are built from the pairs. Throws Error naming
// the pair (1-based) and character that a given vocabulary lacks.
TokenDataset encode_pairs(const std::vector<TextPair>& pairs, Vocabulary source_vocab = {},
                          Vocabulary target_vocab = {});
// The batch of examples order[begin, end) (targets included).
Batch make_batch(const TokenDataset& data, const std::vector<std::size_t>& order,
                 std::size_t begin, std::size_t end);

}  // namespace s2s
