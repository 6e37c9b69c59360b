#pragma once

// Classification metrics with scikit-learn 1.2 semantics (the GLUE reference):
// the same values and the same edge cases, so reported numbers are comparable.
// Arguments are (predictions, labels), as in HF glue_compute_metrics.

#include <cstdint>
#include <vector>

namespace qsim::tasks {

/// Fraction of equal entries (sklearn accuracy_score). NaN for empty input, as numpy's
/// mean of an empty array.
double accuracy(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels);

/// Binary F1 of the positive class 1 (sklearn f1_score, zero_division="warn"):
/// 0.0 when there are no predicted or no true positives. Values must be 0 or 1.
double f1_score(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels);

/// Matthews correlation (sklearn matthews_corrcoef, including its multiclass
/// generalisation); 0.0 when the denominator is 0 (e.g. constant predictions).
double matthews_corrcoef(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels);

}  // namespace qsim::tasks
