#include "qsim/train/train_options.hpp"

#include "detail/check.hpp"

namespace qsim::train {

void TrainOptions::validate() const {
  QSIM_CHECK(learning_rate() >= 0.0, ConfigError, "train: learning_rate must be >= 0, got {}", learning_rate());
  QSIM_CHECK(range_learning_rate() >= 0.0, ConfigError, "train: range_learning_rate must be >= 0, got {}",
             range_learning_rate());
  QSIM_CHECK(weight_decay() >= 0.0, ConfigError, "train: weight_decay must be >= 0, got {}", weight_decay());
  QSIM_CHECK(warmup_steps() >= 0, ConfigError, "train: warmup_steps must be >= 0, got {}", warmup_steps());
  QSIM_CHECK(warmup_ratio() >= 0.0 && warmup_ratio() <= 1.0, ConfigError,
             "train: warmup_ratio must be in [0, 1], got {}", warmup_ratio());
  QSIM_CHECK(!dropout() || (*dropout() >= 0.0 && *dropout() < 1.0), ConfigError,
             "train: dropout must be in [0, 1), got {}", dropout().value_or(0.0));
  QSIM_CHECK(batch_size() > 0, ConfigError, "train: batch_size must be > 0, got {}", batch_size());
  QSIM_CHECK(epochs() > 0 || max_steps() > 0, ConfigError,
             "train: epochs must be > 0 when max_steps is 0, got {}", epochs());
  QSIM_CHECK(max_steps() >= 0, ConfigError, "train: max_steps must be >= 0, got {}", max_steps());
  QSIM_CHECK(log_every() >= 0, ConfigError, "train: log_every must be >= 0, got {}", log_every());
  QSIM_CHECK(checkpoint_every() >= 0, ConfigError, "train: checkpoint_every must be >= 0, got {}",
             checkpoint_every());
  QSIM_CHECK(checkpoint_every() == 0 || !checkpoint_dir().empty(), ConfigError,
             "train: checkpoint_every {} needs a checkpoint_dir", checkpoint_every());
}

}  // namespace qsim::train
