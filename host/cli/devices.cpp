// `s2s devices`: the CPU and each usable GPU.
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "s2s/backend.h"

namespace s2s::cli {

namespace {
std::string memory_text(std::size_t bytes) {
  if (bytes == 0) return "";
  return fmt::format(", {:.1f} GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
}

int run_devices() {
  for (const DeviceInfo& d : list_devices())
    fmt::print("{} {}: {}{}{}\n", to_string(d.kind), d.index, d.name, memory_text(d.memory_bytes),
               d.detail.empty() ? "" : " (" + d.detail + ")");
  if (!cuda_built())
    fmt::print("no GPU: this build of s2s has no CUDA support\n");
  else if (cuda_device_count() == 0)
    fmt::print("no usable GPU (built with CUDA; no device found or the driver is unusable)\n");
  return 0;
}
}  // namespace

Subcommand add_devices_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("devices", "List the CPU and each usable GPU");
  return {app, [] { return run_devices(); }};
}

}  // namespace s2s::cli
