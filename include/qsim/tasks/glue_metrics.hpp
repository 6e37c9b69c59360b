#pragma once

// The GLUE table's metrics per task, keyed as Hugging Face transformers'
// `glue_compute_metrics` names them:
//   cola -> {mcc}; mrpc, qqp -> {acc, f1, acc_and_f1}; stsb -> {pearson, spearmanr, corr};
//   sst2, mnli, mnli-mm, qnli, rte, wnli -> {acc}.
// The task score (what the GLUE leaderboard averages, and `combined_score` in the
// datasets glue metric) is mcc, acc, or the mean of the task's two metrics.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "qsim/tasks/glue_task.hpp"

namespace qsim::tasks {

using GlueMetrics = std::map<std::string, double>;

/// Metrics of a classification task from predicted and true class ids.
GlueMetrics glue_compute_metrics(GlueTask task, const std::vector<int64_t>& predictions,
                                 const std::vector<int64_t>& labels);

/// Metrics of STS-B from predicted and true scores.
GlueMetrics glue_compute_metrics(GlueTask task, const std::vector<double>& predictions,
                                 const std::vector<double>& labels);

/// The task's single leaderboard number (acc_and_f1 / corr for two-metric tasks).
double glue_task_score(GlueTask task, const GlueMetrics& metrics);

/// GLUE average: the mean of the task scores given, with MNLI matched and mismatched
/// first averaged into one MNLI score. Throws ValueError when `task_scores` is empty.
double glue_average(const std::map<GlueTask, double>& task_scores);

/// Row-wise argmax of [rows x num_labels] logits in row-major order; the first index
/// wins on ties (numpy argmax).
std::vector<int64_t> argmax_rows(const std::vector<double>& logits, int64_t num_labels);

}  // namespace qsim::tasks
