#pragma once

// QSIM_CHECK(cond, ErrorType, fmt, args...): the one way qsim validates input.
// Throws ErrorType (a qsim::Error) with an fmt-formatted message when cond is false.
// Entry points validate once; kernels trust their callers.

#include <fmt/format.h>

#include "qsim/error.hpp"

namespace qsim::detail {

template <typename E, typename... Args>
[[noreturn]] void raise(fmt::format_string<Args...> format, Args&&... args) {
  throw E(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace qsim::detail

#define QSIM_CHECK(cond, ErrorType, ...)                      \
  do {                                                        \
    if (!(cond)) ::qsim::detail::raise<ErrorType>(__VA_ARGS__); \
  } while (false)
