#pragma once

// The learning-rate schedule of Hugging Face's get_linear_schedule_with_warmup:
// the factor rises linearly from 0 to 1 over the warm-up steps, then falls linearly
// to 0 at total_steps. Trainer multiplies each parameter group's base rate by it.

#include <cstdint>

namespace qsim::train {

class LinearWarmupSchedule {
 public:
  /// Throws qsim::ConfigError unless 0 <= warmup_steps <= total_steps and total_steps > 0.
  LinearWarmupSchedule(int64_t warmup_steps, int64_t total_steps);

  /// The factor for the optimizer step that follows `step` completed steps.
  double factor(int64_t step) const;

  int64_t warmup_steps() const { return warmup_steps_; }
  int64_t total_steps() const { return total_steps_; }

 private:
  int64_t warmup_steps_;
  int64_t total_steps_;
};

}  // namespace qsim::train
