// `s2s gen`: a built-in task's pairs as input<TAB>target lines on stdout.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/data_spec.h"
#include "cli/output_files.h"
#include "s2s/error.h"
#include "s2s/sequences.h"

namespace s2s::cli {

namespace {
struct GenArgs {
  std::string task;
  int digits = 0, max_dashes = 0, size = 0;
  bool reverse = false;
  std::uint64_t seed = 1;
  std::string presentation;
  CLI::Option *presentation_opt = nullptr;
  CLI::Option *digits_opt = nullptr, *reverse_opt = nullptr, *dashes_opt = nullptr;
};

int run_gen(GenArgs& a) {
  for (CLI::Option* o : {a.digits_opt, a.reverse_opt, a.dashes_opt})
    if (o->count()) check_task_flag(a.task, o->get_name());
  TaskOptions o;
  o.digits = a.digits;
  o.reverse = a.reverse;
  o.max_dashes = a.max_dashes;
  o.size = a.size;
  o.seed = a.seed;
  if (a.presentation_opt->count()) o.form = parse_task_form(a.presentation);
  const auto pairs = task_text_pairs(a.task, resolved_task_options(a.task, o));
  std::string text;
  // Real-valued pairs declare themselves, so that train, eval and predict read them as numbers.
  if (a.task == "progression") text = number_pairs_header(ProgressionOptions{}.modulus) + "\n";
  for (const auto& p : pairs) text += p.input + "\t" + p.target + "\n";
  write_stdout(text);
  return 0;
}
}  // namespace

Subcommand add_gen_command(CLI::App& parent) {
  auto args = std::make_shared<GenArgs>();
  GenArgs& a = *args;
  CLI::App* app =
      parent.add_subcommand("gen", "Write a built-in task's pairs as input<TAB>target lines");
  app->footer("Pairs are written as the model reads them (Keras-style space padding in the "
              "padded presentation, reversed queries with --reverse).\nprogression writes numbers "
              "separated by spaces after a first line '#s2s-numbers modulus=50'\n(train --data, "
              "eval --data and predict read such files as real-valued pairs).");
  app->add_option("--task", a.task, "Task: " + joined(tool_task_names(), "|"))
      ->required()
      ->check(CLI::IsMember(tool_task_names()));
  a.digits_opt = app->add_option("--digits", a.digits,
                                 "addition/subtraction: digits per operand (default 3/5); "
                                 "copy/reverse: longest string (default 8); progression: length "
                                 "(default 10)")
                     ->check(CLI::Range(1, 100000));
  a.reverse_opt = app->add_flag("--reverse", a.reverse, "addition/subtraction: reverse the query");
  a.dashes_opt = app->add_option("--max-dashes", a.max_dashes, "pq: dashes per operand at most "
                                                               "(default 10)")
                     ->check(CLI::Range(1, 100000));
  app->add_option("--size", a.size, "Number of pairs (default: the task's)")
      ->check(CLI::Range(1, 100000000));
  app->add_option("--seed", a.seed, "Seed")->capture_default_str();
  a.presentation_opt =
      app->add_option("--presentation", a.presentation,
                      "natural|padded (default: pq natural, addition/subtraction padded)")
          ->check(CLI::IsMember({"natural", "padded"}));
  return {app, [args] { return run_gen(*args); }};
}

}  // namespace s2s::cli
