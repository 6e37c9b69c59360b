#pragma once

// LabelMap: which output index of a classifier stands for which dataset label.
//
// A fine-tuned checkpoint's config.json may carry `label2id` with real label names
// (e.g. {"entailment": 0, ...}); then its order wins, as in Hugging Face run_glue.py.
// The placeholder names LABEL_0, LABEL_1, ... mean "dataset order".

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "qsim/tasks/glue_task.hpp"

namespace qsim::tasks {

using LabelMap = std::map<std::string, int64_t>;

/// `label2id` of a Hugging Face config.json. Throws IoError if the file cannot be
/// read or parsed, ConfigError if label2id is missing or holds non-integer ids.
LabelMap read_label2id(const std::string& config_path);

/// Label string -> id for `task`: the config's ids when its label names are the task's
/// labels (compared case-insensitively), otherwise the default order of glue_labels().
/// Names that do not match the task (other than LABEL_i) are ignored with a warning,
/// as run_glue.py does. Empty for regression tasks.
LabelMap glue_label_map(GlueTask task, const std::optional<LabelMap>& config_label2id = std::nullopt);

}  // namespace qsim::tasks
