// qsim: command-line front end to the library (qdq, encode, tokenize, ...).
// Logs and errors go to stderr; results go to stdout or the named output file.
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "tool_errors.hpp"

int main(int argc, char** argv) {
  CLI::App app{"qsim: quantization simulation tools"};
  app.require_subcommand(1);
  qsim::cli::add_version_command(app);
  qsim::cli::add_forward_command(app);
  qsim::cli::add_tokenize_command(app);
  qsim::cli::add_squad_eval_command(app);
  qsim::cli::add_qdq_command(app);
  qsim::cli::add_encode_command(app);

  return qsim::examples::run_reporting_errors("qsim", [&] {
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e);
    }
    return 0;
  });
}
