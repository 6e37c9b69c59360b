#include "qsim/tasks/correlation_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "detail/check.hpp"

namespace qsim::tasks {
namespace {

bool is_constant(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
}

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// SciPy's pearsonr body after its special cases: normalise the centred vectors,
// then take their dot product, clipped to [-1, 1].
double centred_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  const double x_mean = mean(x);
  const double y_mean = mean(y);
  std::vector<double> xm(x.size());
  std::vector<double> ym(y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    xm[i] = x[i] - x_mean;
    ym[i] = y[i] - y_mean;
  }
  const double x_norm = std::sqrt(std::inner_product(xm.begin(), xm.end(), xm.begin(), 0.0));
  const double y_norm = std::sqrt(std::inner_product(ym.begin(), ym.end(), ym.begin(), 0.0));
  double r = 0.0;
  for (size_t i = 0; i < x.size(); ++i) r += (xm[i] / x_norm) * (ym[i] / y_norm);
  return std::max(std::min(r, 1.0), -1.0);
}

double sign(double v) { return v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : 0.0); }

}  // namespace

double pearson(const std::vector<double>& predictions, const std::vector<double>& labels) {
  QSIM_CHECK(predictions.size() == labels.size(), ValueError,
             "pearson: x and y must have the same length, got {} and {}", predictions.size(),
             labels.size());
  QSIM_CHECK(predictions.size() >= 2, ValueError,
             "pearson: x and y must have length at least 2, got {}", predictions.size());
  if (is_constant(predictions) || is_constant(labels)) return std::numeric_limits<double>::quiet_NaN();
  if (predictions.size() == 2) {
    return sign(predictions[1] - predictions[0]) * sign(labels[1] - labels[0]);
  }
  return centred_correlation(predictions, labels);
}

double spearman(const std::vector<double>& predictions, const std::vector<double>& labels) {
  QSIM_CHECK(predictions.size() == labels.size(), ValueError,
             "spearman: x and y must have the same length, got {} and {}", predictions.size(),
             labels.size());
  if (predictions.size() < 2 || is_constant(predictions) || is_constant(labels)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return centred_correlation(average_ranks(predictions), average_ranks(labels));
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  size_t i = 0;
  while (i < order.size()) {
    size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = 0.5 * static_cast<double>(i + j) + 1.0;  // average of ranks i+1..j+1
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

}  // namespace qsim::tasks
