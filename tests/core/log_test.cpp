#include "qsim/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

namespace qsim {
namespace {

TEST(LogTest, LoggerIsNamedQsimAndRegistered) {
  auto log = logger();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->name(), "qsim");
  EXPECT_EQ(spdlog::get("qsim"), log);
  EXPECT_EQ(logger(), log) << "one instance";
}

TEST(LogTest, DoesNotReplaceTheDefaultLogger) {
  auto before = spdlog::default_logger();
  logger();
  EXPECT_EQ(spdlog::default_logger(), before);
}

}  // namespace
}  // namespace qsim
