#pragma once

// The example tools' one error convention: a bad flag, a missing file or a
// malformed input (qsim::ConfigError, qsim::IoError) is one line on stderr and
// exit code 2; anything else is one line and exit code 1. Nothing escapes main().

#include <exception>
#include <string_view>

#include <fmt/format.h>

#include "qsim/error.hpp"

namespace qsim::examples {

/// Returns body()'s exit code, or the code of the error it threw (after printing it).
template <typename Body>
int run_reporting_errors(std::string_view tool, Body&& body) {
  try {
    return body();
  } catch (const ConfigError& e) {
    fmt::print(stderr, "{}: error: {}\n", tool, e.what());
    return 2;
  } catch (const IoError& e) {
    fmt::print(stderr, "{}: error: {}\n", tool, e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: error: {}\n", tool, e.what());
    return 1;
  }
}

}  // namespace qsim::examples
