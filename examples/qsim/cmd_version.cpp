#include <fmt/format.h>

#include "commands.hpp"
#include "qsim/config.hpp"
#include "qsim/version.hpp"

namespace qsim::cli {

void add_version_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "print the library version and build options");
  cmd->callback([] {
    fmt::print("qsim {} (cuda dispatch: {})\n", version(), QSIM_CUDA_ENABLED ? "on" : "off");
  });
}

}  // namespace qsim::cli
