#pragma once

// run_command: runs a shell command line (the built tools, in CLI tests) with the
// given standard input and returns its exit code, stdout and stderr.

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "support/scratch_dir.hpp"

namespace qsim::test {

struct CommandResult {
  int exit_code = -1;  ///< the process's exit status; -1 if it did not exit normally
  std::string out;
  std::string err;
};

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline CommandResult run_command(const std::string& command_line, const std::string& stdin_text = "") {
  const ScratchDir io("cmd");
  std::ofstream(io.file("stdin"), std::ios::binary) << stdin_text;
  const std::string redirected = command_line + " < '" + io.file("stdin") + "' > '" + io.file("stdout") +
                                 "' 2> '" + io.file("stderr") + "'";
  const int status = std::system(redirected.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text_file(io.file("stdout")),
          read_text_file(io.file("stderr"))};
}

}  // namespace qsim::test
