// qsim: command-line front end to the library (qdq, encode, tokenize, ...).
// Logs and errors go to stderr; results go to stdout or the named output file.
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "qsim/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"qsim: quantization simulation tools"};
  app.require_subcommand(1);
  qsim::cli::add_version_command(app);
  qsim::cli::add_forward_command(app);
  qsim::cli::add_tokenize_command(app);
  qsim::cli::add_squad_eval_command(app);
  qsim::cli::add_qdq_command(app);
  qsim::cli::add_encode_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const qsim::ConfigError& e) {
    fmt::print(stderr, "qsim: error: {}\n", e.what());
    return 2;
  } catch (const qsim::IoError& e) {
    fmt::print(stderr, "qsim: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "qsim: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
