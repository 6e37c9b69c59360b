#pragma once

// Small helpers for the analyzer tests: batches from literal values and the
// analyzers' private types (the tests reach into src/analysis on purpose, to pin
// intermediate results such as histogram ranges and candidate costs).

#include <initializer_list>
#include <vector>

#include <ATen/ATen.h>

#include "qsim/analysis/encoding_analyzer.hpp"
#include "qsim/error.hpp"

namespace qsim::analysis::test {

inline at::Tensor batch(std::initializer_list<float> values) {
  return at::tensor(std::vector<float>(values), at::kFloat);
}

inline at::Tensor repeated(float value, int64_t count) { return at::full({count}, value, at::kFloat); }

/// The analyzer of `kind` after adding each batch in order.
inline std::unique_ptr<EncodingAnalyzer> fed(AnalyzerKind kind, const std::vector<at::Tensor>& batches,
                                             const AnalyzerOptions& options = {}) {
  auto analyzer = make_analyzer(kind, options);
  for (const at::Tensor& b : batches) analyzer->update_stats(b);
  return analyzer;
}

template <typename T>
const T& as(const EncodingAnalyzer& a) {
  return dynamic_cast<const T&>(a);
}

}  // namespace qsim::analysis::test
