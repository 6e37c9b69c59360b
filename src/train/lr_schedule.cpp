#include "qsim/train/lr_schedule.hpp"

#include <algorithm>

#include "detail/check.hpp"

namespace qsim::train {

LinearWarmupSchedule::LinearWarmupSchedule(int64_t warmup_steps, int64_t total_steps)
    : warmup_steps_(warmup_steps), total_steps_(total_steps) {
  QSIM_CHECK(total_steps > 0, ConfigError, "lr schedule: total_steps must be > 0, got {}", total_steps);
  QSIM_CHECK(warmup_steps >= 0 && warmup_steps <= total_steps, ConfigError,
             "lr schedule: warmup_steps must be in [0, {}], got {}", total_steps, warmup_steps);
}

double LinearWarmupSchedule::factor(int64_t step) const {
  if (step < warmup_steps_) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup_steps_));
  const double remaining = static_cast<double>(total_steps_ - step);
  const double span = static_cast<double>(std::max<int64_t>(1, total_steps_ - warmup_steps_));
  return std::max(0.0, remaining / span);
}

}  // namespace qsim::train
