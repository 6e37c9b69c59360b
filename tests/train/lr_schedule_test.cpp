#include "qsim/train/lr_schedule.hpp"

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "support/expect_error.hpp"

namespace qsim::train {
namespace {

TEST(LinearWarmupScheduleTest, RisesThenDecaysToZero) {
  const LinearWarmupSchedule schedule(4, 12);
  EXPECT_DOUBLE_EQ(schedule.factor(0), 0.0);
  EXPECT_DOUBLE_EQ(schedule.factor(2), 0.5);
  EXPECT_DOUBLE_EQ(schedule.factor(4), 1.0);
  EXPECT_DOUBLE_EQ(schedule.factor(8), 0.5);
  EXPECT_DOUBLE_EQ(schedule.factor(12), 0.0);
  EXPECT_DOUBLE_EQ(schedule.factor(20), 0.0);
}

TEST(LinearWarmupScheduleTest, NoWarmupStartsAtFullRate) {
  const LinearWarmupSchedule schedule(0, 10);
  EXPECT_DOUBLE_EQ(schedule.factor(0), 1.0);
  EXPECT_DOUBLE_EQ(schedule.factor(9), 0.1);
}

TEST(LinearWarmupScheduleTest, RejectsWarmupLongerThanTraining) {
  QSIM_EXPECT_THROW_MSG(LinearWarmupSchedule(11, 10), ConfigError, {"warmup_steps", "[0, 10]", "11"});
  QSIM_EXPECT_THROW_MSG(LinearWarmupSchedule(0, 0), ConfigError, {"total_steps", "0"});
}

}  // namespace
}  // namespace qsim::train
