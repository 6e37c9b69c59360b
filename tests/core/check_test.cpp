#include "detail/check.hpp"

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "qsim/version.hpp"
#include "support/expect_error.hpp"

namespace qsim {
namespace {

TEST(CheckTest, PassingConditionDoesNotThrow) { EXPECT_NO_THROW(QSIM_CHECK(1 + 1 == 2, ValueError, "never")); }

TEST(CheckTest, FailingConditionThrowsTheNamedTypeWithFormattedMessage) {
  QSIM_EXPECT_THROW_MSG(QSIM_CHECK(false, ConfigError, "'{}': bitwidth must be in [1, 32], got {}", "w", 33),
                        ConfigError, {"'w'", "got 33"});
}

TEST(CheckTest, ErrorTypesShareOneBase) {
  EXPECT_THROW(QSIM_CHECK(false, IoError, "x"), Error);
  EXPECT_THROW(QSIM_CHECK(false, ValueError, "x"), std::runtime_error);
}

TEST(VersionTest, MatchesTheConfiguredVersion) { EXPECT_STREQ(version(), QSIM_VERSION_STRING); }

}  // namespace
}  // namespace qsim
