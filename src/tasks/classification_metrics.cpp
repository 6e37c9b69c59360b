#include "qsim/tasks/classification_metrics.hpp"

#include <cmath>
#include <limits>
#include <map>

#include "detail/check.hpp"

namespace qsim::tasks {
namespace {

void check_sizes(const char* metric, const std::vector<int64_t>& predictions,
                 const std::vector<int64_t>& labels) {
  QSIM_CHECK(predictions.size() == labels.size(), ValueError,
             "{}: {} predictions but {} labels", metric, predictions.size(), labels.size());
}

}  // namespace

double accuracy(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels) {
  check_sizes("accuracy", predictions, labels);
  if (labels.empty()) return std::numeric_limits<double>::quiet_NaN();
  int64_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) correct += predictions[i] == labels[i] ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

double f1_score(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels) {
  check_sizes("f1", predictions, labels);
  int64_t tp = 0;
  int64_t predicted = 0;
  int64_t actual = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    QSIM_CHECK((predictions[i] == 0 || predictions[i] == 1) && (labels[i] == 0 || labels[i] == 1),
               ValueError, "f1: binary F1 needs 0/1 values, got prediction {} and label {} at {}",
               predictions[i], labels[i], i);
    tp += predictions[i] == 1 && labels[i] == 1 ? 1 : 0;
    predicted += predictions[i];
    actual += labels[i];
  }
  // sklearn: precision and recall with zero_division -> 0, then
  // (1 + beta^2) * p * r / (beta^2 * p + r) with a zero denominator replaced by 1.
  const double precision = predicted == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(predicted);
  const double recall = actual == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(actual);
  double denominator = 1.0 * precision + recall;
  if (denominator == 0.0) denominator = 1.0;
  return 2.0 * precision * recall / denominator;
}

double matthews_corrcoef(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels) {
  check_sizes("matthews_corrcoef", predictions, labels);
  // Confusion-matrix marginals over the sorted union of classes (sklearn).
  std::map<int64_t, double> true_sum;
  std::map<int64_t, double> pred_sum;
  double correct = 0.0;
  for (size_t i = 0; i < labels.size(); ++i) {
    true_sum[labels[i]] += 1.0;
    pred_sum[predictions[i]] += 1.0;
    true_sum.try_emplace(predictions[i], 0.0);
    pred_sum.try_emplace(labels[i], 0.0);
    correct += predictions[i] == labels[i] ? 1.0 : 0.0;
  }
  const auto samples = static_cast<double>(labels.size());
  double t_dot_p = 0.0;
  double p_dot_p = 0.0;
  double t_dot_t = 0.0;
  for (const auto& [label, t] : true_sum) {
    const double p = pred_sum.at(label);
    t_dot_p += t * p;
    p_dot_p += p * p;
    t_dot_t += t * t;
  }
  const double cov_ytyp = correct * samples - t_dot_p;
  const double cov_ypyp = samples * samples - p_dot_p;
  const double cov_ytyt = samples * samples - t_dot_t;
  if (cov_ypyp * cov_ytyt == 0.0) return 0.0;
  return cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
}

}  // namespace qsim::tasks
