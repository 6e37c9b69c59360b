#pragma once

// The one skip rule of every CUDA test: a case skips when the machine offers no
// CUDA (the reason says why), unless QSIM_REQUIRE_CUDA=1 (scripts/gpu-check.sh)
// asks that an absent GPU be a failure. Each suite supplies its own reason check.

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace qsim::test {

inline bool cuda_required() {
  const char* v = std::getenv("QSIM_REQUIRE_CUDA");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace qsim::test

/// Skips, or fails under QSIM_REQUIRE_CUDA=1, when `reason` (a std::string
/// expression, empty when CUDA is usable) is not empty.
#define QSIM_SKIP_WITHOUT_CUDA(reason)                           \
  do {                                                           \
    const std::string qsim_reason_ = (reason);                   \
    if (!qsim_reason_.empty()) {                                 \
      if (::qsim::test::cuda_required()) FAIL() << qsim_reason_; \
      GTEST_SKIP() << qsim_reason_;                              \
    }                                                            \
  } while (false)
