#pragma once

// Where tests find ../shared: QSIM_DATA_DIR (the data root, e.g. shared/data) and
// QSIM_GOLDEN_DIR override the defaults next to the checkout.

#include <cstdlib>
#include <string>

#include "support/test_config.hpp"

namespace qsim::test {

inline std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return (value != nullptr && *value != '\0') ? std::string(value) : fallback;
}

/// Real evaluation data (GLUE TSVs, SQuAD, vocab): $QSIM_DATA_DIR or ../shared/data.
inline std::string data_dir() {
  return env_or("QSIM_DATA_DIR", std::string(QSIM_TEST_DEFAULT_SHARED_DIR) + "/data");
}

/// Golden fixtures: $QSIM_GOLDEN_DIR or ../shared/golden.
inline std::string golden_dir() {
  return env_or("QSIM_GOLDEN_DIR", std::string(QSIM_TEST_DEFAULT_SHARED_DIR) + "/golden");
}

}  // namespace qsim::test
