#pragma once

#include "qsim/config.hpp"

namespace qsim {

/// The library's version, "major.minor.patch".
constexpr const char* version() { return QSIM_VERSION_STRING; }

}  // namespace qsim
