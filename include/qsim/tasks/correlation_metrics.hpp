#pragma once

// Correlation metrics with SciPy 1.10 semantics (STS-B): NaN when either input is
// constant, exactly +-1 for two points, and an error for fewer than two (Pearson).

#include <vector>

namespace qsim::tasks {

/// Pearson's r (scipy.stats.pearsonr(predictions, labels)[0]). Throws ValueError for
/// mismatched sizes or fewer than 2 values.
double pearson(const std::vector<double>& predictions, const std::vector<double>& labels);

/// Spearman's rho with average ranks for ties (scipy.stats.spearmanr). NaN for fewer
/// than 2 values, as SciPy returns.
double spearman(const std::vector<double>& predictions, const std::vector<double>& labels);

/// 1-based ranks, ties given their average rank (scipy.stats.rankdata "average").
std::vector<double> average_ranks(const std::vector<double>& values);

}  // namespace qsim::tasks
