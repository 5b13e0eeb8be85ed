// The built-in tasks of the seeds, generated deterministically from a seed.
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "s2s/error.h"
#include "s2s/random.h"
#include "s2s/tasks.h"

namespace s2s {

std::string to_string(TaskForm form) {
  switch (form) {
    case TaskForm::automatic: return "automatic";
    case TaskForm::natural: return "natural";
    case TaskForm::padded: return "padded";
  }
  return "?";
}

TaskForm parse_task_form(const std::string& name) {
  if (name == "natural") return TaskForm::natural;
  if (name == "padded") return TaskForm::padded;
  throw Error("presentation '" + name + "' is unknown (allowed: natural, padded)");
}

std::vector<std::string> task_names() {
  return {"digits-words", "addition", "subtraction", "pq", "copy", "reverse"};
}

namespace {
void require_option(const std::string& task, const char* name, long long value, long long low,
                    long long high) {
  if (value < low || value > high)
    throw Error("task " + task + ": " + name + " is " + std::to_string(value) + " (allowed: " +
                std::to_string(low) + " to " + std::to_string(high) + ")");
}

// Keras' operand: 1..digits random decimal digits, read as a number (leading zeros vanish).
long long random_operand(Rng& rng, int digits) {
  const int n = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(digits)));
  long long value = 0;
  for (int i = 0; i < n; ++i) value = value * 10 + static_cast<long long>(rng.below(10));
  return value;
}

// Unordered operand pairs there are: n(n+1)/2 for n distinct operands (10^digits numbers, or
// 1..max_dashes dashes).
double distinct_questions(const std::string& task, const TaskOptions& o) {
  double n = task == "pq" ? o.max_dashes : std::pow(10.0, o.digits);
  return n * (n + 1) / 2;
}

std::string padded(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

bool has_padded_form(const std::string& task) {
  return task == "addition" || task == "subtraction" || task == "pq";
}

// The form a task uses when none is asked for, and the check that an asked-for one exists.
TaskForm resolved_form(const std::string& task, TaskForm form) {
  if (form == TaskForm::automatic)
    return task == "addition" || task == "subtraction" ? TaskForm::padded : TaskForm::natural;
  if (form == TaskForm::padded && !has_padded_form(task))
    throw Error("task " + task + " has no padded form (its seed does not pad; padded applies "
                "to addition, subtraction and pq)");
  return form;
}

// Distinct unordered operand pairs (Keras skips x+y when y+x was seen).
template <typename MakeOperand, typename MakePair>
std::vector<TextPair> unique_pairs(const std::string& task, int size, double possible,
                                   MakeOperand operand, MakePair make) {
  if (size > possible)
    throw Error("task " + task + ": size " + std::to_string(size) + " is more than the " +
                std::to_string(static_cast<long long>(possible)) +
                " distinct questions these options allow");
  std::set<std::pair<long long, long long>> seen;
  std::vector<TextPair> pairs;
  while (static_cast<int>(pairs.size()) < size) {
    long long a = operand(), b = operand();
    if (!seen.insert({std::min(a, b), std::max(a, b)}).second) continue;
    pairs.push_back(make(a, b));
  }
  return pairs;
}
}  // namespace

TaskOptions task_defaults(const std::string& task, TaskOptions o) {
  auto set = [](int& field, int value) {
    if (field == 0) field = value;
  };
  if (task == "digits-words") {
    o.form = resolved_form(task, o.form);
    set(o.size, 9);
  } else if (task == "addition" || task == "subtraction") {
    // The seeds: 3-digit addition and 5-digit subtraction, 50,000 questions (fewer when the
    // digits allow fewer distinct ones).
    o.form = resolved_form(task, o.form);
    set(o.digits, task == "addition" ? 3 : 5);
    require_option(task, "digits", o.digits, 1, 18);
    set(o.size, static_cast<int>(std::min(50000.0, distinct_questions(task, o))));
  } else if (task == "pq") {
    o.form = resolved_form(task, o.form);
    set(o.max_dashes, 10);
    require_option(task, "max_dashes", o.max_dashes, 1, 100000);
    set(o.size, static_cast<int>(std::min(50000.0, distinct_questions(task, o))));
  } else if (task == "copy" || task == "reverse") {
    o.form = resolved_form(task, o.form);
    set(o.digits, 8);
    set(o.size, 10000);
  } else {
    std::string names;
    for (auto& n : task_names()) names += (names.empty() ? "" : ", ") + n;
    throw Error("unknown task '" + task + "' (allowed: " + names + ")");
  }
  return o;
}

std::vector<TextPair> generate_task(const std::string& task, const TaskOptions& options) {
  const TaskOptions o = task_defaults(task, options);
  Rng rng(o.seed);
  if (task == "digits-words") {
    static const char* words[] = {"one", "two",   "three", "four", "five",
                                  "six", "seven", "eight", "nine"};
    require_option(task, "size", o.size, 1, 9);
    std::vector<TextPair> pairs;
    for (int i = 0; i < o.size; ++i) pairs.push_back({std::to_string(i + 1), words[i]});
    return pairs;
  }
  require_option(task, "size", o.size, 1, 100000000);
  if (task == "addition" || task == "subtraction") {
    require_option(task, "digits", o.digits, 1, 18);
    const bool add = task == "addition";
    const bool pad = o.form == TaskForm::padded;
    const std::size_t query_width = pad ? 2 * static_cast<std::size_t>(o.digits) + 1 : 0;
    const std::size_t answer_width = pad ? static_cast<std::size_t>(o.digits) + 1 : 0;
    return unique_pairs(
        task, o.size, distinct_questions(task, o), [&] { return random_operand(rng, o.digits); },
        [&](long long a, long long b) {
          std::string query = padded(std::to_string(a) + (add ? "+" : "-") + std::to_string(b),
                                     query_width);
          if (o.reverse) std::reverse(query.begin(), query.end());
          return TextPair{query, padded(std::to_string(add ? a + b : a - b), answer_width)};
        });
  }
  if (task == "pq") {
    require_option(task, "max_dashes", o.max_dashes, 1, 100000);
    const std::size_t width =
        o.form == TaskForm::padded ? 2 * static_cast<std::size_t>(o.max_dashes) + 1 : 0;
    return unique_pairs(
        task, o.size, distinct_questions(task, o),
        [&] { return 1 + static_cast<long long>(rng.below(static_cast<std::uint64_t>(o.max_dashes))); },
        [&](long long a, long long b) {
          const std::string query = std::string(a, '-') + "p" + std::string(b, '-');
          return TextPair{padded(query, width), padded("q" + std::string(a + b, '-'), width)};
        });
  }
  // copy / reverse
  require_option(task, "digits", o.digits, 1, 100000);
  std::vector<TextPair> pairs;
  for (int i = 0; i < o.size; ++i) {
    const int n = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(o.digits)));
    std::string s;
    for (int k = 0; k < n; ++k) s += static_cast<char>('0' + rng.below(10));
    std::string target = s;
    if (task == "reverse") std::reverse(target.begin(), target.end());
    pairs.push_back({s, target});
  }
  return pairs;
}

}  // namespace s2s
