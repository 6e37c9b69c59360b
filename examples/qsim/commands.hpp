#pragma once

// Each subcommand of the qsim tool lives in its own cmd_<name>.cpp and adds itself
// to the app here. A command's callback throws qsim::Error on bad input; main()
// turns that into one line on stderr and a non-zero exit.

#include <CLI/CLI.hpp>

namespace qsim::cli {

void add_version_command(CLI::App& app);
void add_forward_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_squad_eval_command(CLI::App& app);
void add_qdq_command(CLI::App& app);
void add_encode_command(CLI::App& app);

}  // namespace qsim::cli
