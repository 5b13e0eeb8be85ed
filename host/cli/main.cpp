// The s2s command-line tool: subcommands train, eval, predict, gen, info, devices. Every
// failure is printed as "s2s: error: <message>" on stderr with a non-zero exit status.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <exception>
#include <new>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "s2s/communicator.h"
#include "s2s/error.h"

namespace {
int fail(const char* message) {
  std::fflush(stdout);
  fmt::print(stderr, "s2s: error: {}\n", message);
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace s2s::cli;
  CLI::App app{"s2s: sequence-to-sequence recurrent networks (train, evaluate, predict)", "s2s"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "s2s 0.1.0");
  std::vector<Subcommand> commands;
  commands.push_back(add_train_command(app));
  commands.push_back(add_eval_command(app));
  commands.push_back(add_predict_command(app));
  commands.push_back(add_gen_command(app));
  commands.push_back(add_info_command(app));
  commands.push_back(add_devices_command(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "s2s: error: {}\n", e.what());
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::RequiredError) ||
        e.get_exit_code() == static_cast<int>(CLI::ExitCodes::ExtrasError))
      fmt::print(stderr, "run with --help for more information\n");
    return e.get_exit_code();
  }
  // Under mpirun only `train` is data parallel; N copies of another command would repeat it.
  if (s2s::launcher_world_size() > 1 && !app.got_subcommand("train"))
    return fail("an MPI launcher started this command as several ranks; only `s2s train` runs "
                "data parallel (run the other commands as one process, without mpirun)");
  try {
    for (auto& command : commands)
      if (command.app->parsed()) {
        const int status = command.run();
        // A full disk or an I/O error on stdout must not pass as success (a closed pipe ends
        // the tool through SIGPIPE, as it ends any filter).
        if (std::fflush(stdout) != 0 || std::ferror(stdout))
          return fail((std::string("writing to standard output failed: ") +
                       std::strerror(errno))
                          .c_str());
        return status;
      }
    return fail("no command given (allowed: train, eval, predict, gen, info, devices)");
  } catch (const s2s::Error& e) {
    return fail(e.what());
  } catch (const std::bad_alloc&) {
    return fail("out of memory");
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
