#pragma once

// GlueTask: the GLUE tasks, their names, files, label lists and column layouts.
//
// Label lists and their default order are those of Hugging Face's glue processors
// (transformers/data/processors/glue.py), which the fine-tuned checkpoints use.

#include <string>
#include <string_view>
#include <vector>

namespace qsim::tasks {

enum class GlueTask { cola, sst2, mrpc, stsb, qqp, mnli, mnli_mismatched, qnli, rte, wnli };

enum class GlueSplit { train, dev };

/// Every task, in GLUE leaderboard order.
const std::vector<GlueTask>& all_glue_tasks();

/// Lower-case task name as HF's `glue_compute_metrics` spells it: "cola", "sst2",
/// "mrpc", "stsb", "qqp", "mnli", "mnli-mm", "qnli", "rte", "wnli".
std::string_view glue_task_name(GlueTask task);

/// Parses a task name, case-insensitively; accepts the GLUE directory spellings too
/// ("SST-2", "STS-B", "mnli_mismatched"). Throws ConfigError listing the known names.
GlueTask parse_glue_task(std::string_view name);

/// The task's directory in the GLUE data download ("CoLA", "SST-2", ..., "MNLI").
std::string_view glue_task_dir(GlueTask task);

/// The TSV file of a split ("train.tsv", "dev.tsv", "dev_matched.tsv", ...).
std::string glue_split_file(GlueTask task, GlueSplit split);

/// True for STS-B, the only regression task.
bool is_regression(GlueTask task);

/// Label strings as they appear in the TSV, in default id order; empty for STS-B.
std::vector<std::string> glue_labels(GlueTask task);

/// Number of model outputs: labels, or 1 for regression.
int64_t glue_num_labels(GlueTask task);

}  // namespace qsim::tasks
