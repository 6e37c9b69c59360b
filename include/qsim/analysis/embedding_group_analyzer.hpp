#pragma once

// Calibration of a per-embedding-group quantizer (quant/embedding_groups.hpp). The
// groups depend on every channel's range, known only once all calibration data
// has been seen; each group's encoding then needs that group's statistics. Hence
// two passes over the same batches:
//   1. update_ranges: per-channel min/max of the last axis; then group_of_channel()
//      fixes the layout (range-based permutation, Bondarenko et al. 2021);
//   2. update_group_stats: each group's elements to its own analyzer of `kind`.
// TF needs only min/max, which pass 1 already has per group, so under TF pass 2 is
// skipped (needs_group_pass() is false) and the encodings are those a TF analyzer
// would give on each group's elements.

#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/ATen.h>

#include "qsim/analysis/encoding_analyzer.hpp"

namespace qsim::analysis {

class EmbeddingGroupAnalyzer {
 public:
  /// Throws ConfigError for groups < 1 or bad analyzer options.
  EmbeddingGroupAnalyzer(AnalyzerKind kind, int64_t groups, bool permute, const AnalyzerOptions& options = {});

  /// Pass 1. Every batch must have the first non-empty batch's last-axis size
  /// (ValueError otherwise, and for NaN values); empty batches change nothing.
  void update_ranges(const at::Tensor& batch);
  bool has_stats() const { return channel_min_.defined(); }
  int64_t num_channels() const { return has_stats() ? channel_min_.numel() : 0; }

  /// The layout from pass 1 (computed at the first call, then fixed). ValueError
  /// without statistics or with more groups than channels.
  const std::vector<int64_t>& group_of_channel();

  bool needs_group_pass() const { return kind_ != AnalyzerKind::tf; }
  /// Pass 2 (only after group_of_channel()): same batch rules as pass 1.
  void update_group_stats(const at::Tensor& batch);

  /// One encoding per group, in group order.
  std::vector<quant::Encoding> compute_encodings(int bitwidth, quant::Symmetry symmetry);

 private:
  at::Tensor rows(const at::Tensor& batch) const;

  AnalyzerKind kind_;
  AnalyzerOptions options_;
  int64_t groups_;
  bool permute_;
  at::Tensor channel_min_, channel_max_;
  std::vector<int64_t> group_of_channel_;
  std::vector<at::Tensor> group_channels_;  // int64 channel indices per group
  std::vector<std::unique_ptr<EncodingAnalyzer>> group_analyzers_;
};

}  // namespace qsim::analysis
