#include "qsim/tasks/glue_metrics.hpp"

#include "detail/check.hpp"
#include "qsim/tasks/classification_metrics.hpp"
#include "qsim/tasks/correlation_metrics.hpp"

namespace qsim::tasks {

GlueMetrics glue_compute_metrics(GlueTask task, const std::vector<int64_t>& predictions,
                                 const std::vector<int64_t>& labels) {
  QSIM_CHECK(!is_regression(task), ValueError,
             "glue metrics: {} is a regression task, pass scores instead of class ids",
             glue_task_name(task));
  switch (task) {
    case GlueTask::cola:
      return {{"mcc", matthews_corrcoef(predictions, labels)}};
    case GlueTask::mrpc:
    case GlueTask::qqp: {
      const double acc = accuracy(predictions, labels);
      const double f1 = f1_score(predictions, labels);
      return {{"acc", acc}, {"f1", f1}, {"acc_and_f1", (acc + f1) / 2}};
    }
    case GlueTask::sst2:
    case GlueTask::mnli:
    case GlueTask::mnli_mismatched:
    case GlueTask::qnli:
    case GlueTask::rte:
    case GlueTask::wnli:
    case GlueTask::stsb:
      break;
  }
  return {{"acc", accuracy(predictions, labels)}};
}

GlueMetrics glue_compute_metrics(GlueTask task, const std::vector<double>& predictions,
                                 const std::vector<double>& labels) {
  QSIM_CHECK(is_regression(task), ValueError,
             "glue metrics: {} is a classification task, pass class ids instead of scores",
             glue_task_name(task));
  const double p = pearson(predictions, labels);
  const double s = spearman(predictions, labels);
  return {{"pearson", p}, {"spearmanr", s}, {"corr", (p + s) / 2}};
}

double glue_task_score(GlueTask task, const GlueMetrics& metrics) {
  const char* key = "acc";
  switch (task) {
    case GlueTask::cola: key = "mcc"; break;
    case GlueTask::mrpc:
    case GlueTask::qqp: key = "acc_and_f1"; break;
    case GlueTask::stsb: key = "corr"; break;
    case GlueTask::sst2:
    case GlueTask::mnli:
    case GlueTask::mnli_mismatched:
    case GlueTask::qnli:
    case GlueTask::rte:
    case GlueTask::wnli: break;
  }
  const auto it = metrics.find(key);
  QSIM_CHECK(it != metrics.end(), ValueError, "glue task score: {} metrics have no '{}'",
             glue_task_name(task), key);
  return it->second;
}

double glue_average(const std::map<GlueTask, double>& task_scores) {
  QSIM_CHECK(!task_scores.empty(), ValueError, "glue average: no task scores given");
  double sum = 0.0;
  int count = 0;
  double mnli_sum = 0.0;
  int mnli_count = 0;
  for (const auto& [task, score] : task_scores) {
    if (task == GlueTask::mnli || task == GlueTask::mnli_mismatched) {
      mnli_sum += score;
      ++mnli_count;
    } else {
      sum += score;
      ++count;
    }
  }
  if (mnli_count > 0) {
    sum += mnli_sum / mnli_count;
    ++count;
  }
  return sum / count;
}

std::vector<int64_t> argmax_rows(const std::vector<double>& logits, int64_t num_labels) {
  QSIM_CHECK(num_labels > 0 && logits.size() % static_cast<size_t>(num_labels) == 0, ValueError,
             "argmax: {} logits are not rows of {} labels", logits.size(), num_labels);
  const auto width = static_cast<size_t>(num_labels);
  std::vector<int64_t> out;
  out.reserve(logits.size() / width);
  for (size_t row = 0; row < logits.size(); row += width) {
    size_t best = 0;
    for (size_t k = 1; k < width; ++k) {
      if (logits[row + k] > logits[row + best]) best = k;
    }
    out.push_back(static_cast<int64_t>(best));
  }
  return out;
}

}  // namespace qsim::tasks
