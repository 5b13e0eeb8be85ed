// Length curricula: parsing the stage list and setting each stage's task options.
#include "cli/curriculum.h"

#include "cli/data_spec.h"
#include "s2s/error.h"

namespace s2s::cli {

std::string length_knob(const std::string& task) {
  if (task == "pq") return "--max-dashes";
  if (task == "addition" || task == "subtraction" || task == "copy" || task == "reverse")
    return "--digits";
  throw Error("--curriculum needs a task with a length knob (pq: --max-dashes; addition, "
              "subtraction, copy, reverse: --digits); task " +
              (task.empty() ? std::string("none (--data files)") : task) + " has none");
}

std::vector<int> parse_curriculum(const std::string& text) {
  const std::string allowed =
      " (allowed: whole numbers from 1 to 100000, strictly increasing, e.g. 100,300,1000)";
  require(!text.empty(), "--curriculum is empty" + allowed);
  std::vector<int> stages;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = text.find(',', begin);
    const std::string entry =
        text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    const std::string where = "--curriculum " + text + ": entry " +
                              std::to_string(stages.size() + 1);
    require(!entry.empty(), where + " is empty" + allowed);
    std::size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(entry, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    require(used == entry.size() && entry.find_first_not_of("0123456789") == std::string::npos &&
                value >= 1 && value <= 100000,
            where + " is '" + entry + "'" + allowed);
    if (!stages.empty() && value <= stages.back())
      throw Error(where + " (" + entry + ") is not larger than the one before (" +
                  std::to_string(stages.back()) + ")" + allowed);
    stages.push_back(static_cast<int>(value));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return stages;
}

TaskOptions stage_options(const std::string& task, TaskOptions options, int length,
                          bool size_given) {
  if (length_knob(task) == "--max-dashes")
    options.max_dashes = length;
  else
    options.digits = length;
  if (!size_given) options.size = 0;
  return resolved_task_options(task, options);
}

}  // namespace s2s::cli
