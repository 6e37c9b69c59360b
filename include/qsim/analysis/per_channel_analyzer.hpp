#pragma once

// Per-channel calibration (quantization-semantics.md §6): one analyzer state per
// slice along the channel axis, each giving its own encoding, exactly as if each
// slice were a tensor of its own.

#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/ATen.h>

#include "qsim/analysis/encoding_analyzer.hpp"

namespace qsim::analysis {

class PerChannelAnalyzer {
 public:
  /// `axis` may be negative (counted from the last dimension); it is checked
  /// against each batch. The number of channels is fixed by the first non-empty batch.
  PerChannelAnalyzer(AnalyzerKind kind, int64_t axis, const AnalyzerOptions& options = {});

  /// Adds one batch: slice c along the axis goes to channel c's analyzer. Throws
  /// ValueError when the axis is out of range for the batch, when the batch's
  /// channel count differs from the first batch's, or when a slice is rejected
  /// (the message names the channel); every channel is left unchanged then.
  void update_stats(const at::Tensor& batch);

  /// One encoding per channel, in channel order. Throws like
  /// EncodingAnalyzer::compute_encoding, naming the channel.
  std::vector<quant::Encoding> compute_encodings(int bitwidth, quant::Symmetry symmetry) const;

  void reset();

  int64_t axis() const { return axis_; }
  /// 0 until the first non-empty batch.
  int64_t num_channels() const { return static_cast<int64_t>(channels_.size()); }
  const EncodingAnalyzer& channel(int64_t c) const;

 private:
  AnalyzerKind kind_;
  AnalyzerOptions options_;
  int64_t axis_;
  std::vector<std::unique_ptr<EncodingAnalyzer>> channels_;
};

}  // namespace qsim::analysis
