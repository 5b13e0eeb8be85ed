// `s2s train --curriculum`: the stages of a length curriculum (e.g. pq at 100, 300, then 1,000
// dashes) and the task option each stage sets.
#pragma once

#include <string>
#include <vector>

#include "s2s/tasks.h"

namespace s2s::cli {

// The flag of the task's length knob ("--max-dashes" for pq, "--digits" for addition,
// subtraction, copy and reverse); throws Error for a task without one, naming the tasks with one.
std::string length_knob(const std::string& task);

// "100,300,1000" as stage lengths. Throws Error for an empty list or entry, something that is
// not a whole number from 1 to 100000, or a list that is not strictly increasing (naming the
// entry).
std::vector<int> parse_curriculum(const std::string& text);

// The options with the task's length knob set to `length`, and the size the task defaults to
// at that length unless size_given (then `options.size` stays).
TaskOptions stage_options(const std::string& task, TaskOptions options, int length,
                          bool size_given);

}  // namespace s2s::cli
