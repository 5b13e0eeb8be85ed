// The s2s tool's subcommands: each adds itself to the app and returns what to run when chosen.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace s2s::cli {

struct Subcommand {
  CLI::App* app = nullptr;
  std::function<int()> run;  // exit status; throws s2s::Error for anything the user must fix
};

Subcommand add_train_command(CLI::App& parent);
Subcommand add_eval_command(CLI::App& parent);
Subcommand add_predict_command(CLI::App& parent);
Subcommand add_gen_command(CLI::App& parent);
Subcommand add_info_command(CLI::App& parent);
Subcommand add_devices_command(CLI::App& parent);

}  // namespace s2s::cli
