#pragma once

// Calibration: an encoding analyzer collects statistics batch by batch, then turns
// them into an encoding for a bitwidth and scheme (quantization-semantics.md §3).
// One analyzer holds the statistics of one tensor (or of one channel slice, see
// PerChannelAnalyzer). The public functions validate, then call the protected
// hooks, so no implementation can skip the checks (non-virtual interface).

#include <cstdint>
#include <memory>
#include <string>

#include <ATen/ATen.h>

#include "qsim/analysis/analyzer_kind.hpp"
#include "qsim/analysis/analyzer_options.hpp"
#include "qsim/analysis/float_batch.hpp"
#include "qsim/quant/encoding.hpp"

namespace qsim::analysis {

class EncodingAnalyzer {
 public:
  virtual ~EncodingAnalyzer() = default;
  EncodingAnalyzer& operator=(const EncodingAnalyzer&) = delete;

  /// Adds one calibration batch: a floating-point tensor of any shape and device
  /// (its values are read as float32, as AIMET's torch binding does). Batches may
  /// differ in size. An empty batch changes nothing. Throws ValueError for a
  /// non-floating dtype or NaN/Inf values, naming the batch (0-based, counting
  /// every call since the last reset); the statistics are unchanged when it throws.
  void update_stats(const at::Tensor& batch);

  /// The encoding of the statistics so far, for `bitwidth` and `symmetry`: a pure
  /// function of the statistics, so it may be called again with other settings.
  /// Throws ConfigError for a bad bitwidth and ValueError when no non-empty batch
  /// was ever added (AIMET returns an invalid encoding and QuantSim disables the
  /// quantizer; check has_stats() first to do the same).
  quant::Encoding compute_encoding(int bitwidth, quant::Symmetry symmetry) const;

  /// Forgets every batch.
  void reset();

  /// Whether a non-empty batch was added since construction or the last reset.
  bool has_stats() const { return has_stats_; }
  /// Calls of update_stats since construction or the last reset, empty ones included.
  int64_t num_batches() const { return batches_; }
  AnalyzerKind kind() const { return kind_; }

  /// An independent copy with the same statistics.
  std::unique_ptr<EncodingAnalyzer> clone() const { return do_clone(); }

 protected:
  explicit EncodingAnalyzer(AnalyzerKind kind) : kind_(kind) {}
  EncodingAnalyzer(const EncodingAnalyzer&) = default;

  /// Adds batch.size > 0 contiguous float32 values (on the host or a CUDA device).
  /// Must throw ValueError (mentioning where()) before changing any state when a
  /// value is NaN or Inf.
  virtual void do_update_stats(const FloatBatch& batch) = 0;
  /// Called only when has_stats() and the bitwidth is valid for the symmetry.
  virtual quant::Encoding do_compute_encoding(int bitwidth, quant::Symmetry symmetry) const = 0;
  virtual void do_reset() = 0;
  virtual std::unique_ptr<EncodingAnalyzer> do_clone() const = 0;

  /// "<kind> analyzer: batch <i>" for the batch being added: the start of error messages.
  std::string where() const;
  /// "<kind> analyzer": the start of compute_encoding's error messages.
  std::string name() const;

 private:
  AnalyzerKind kind_;
  int64_t batches_ = 0;
  bool has_stats_ = false;
};

/// The analyzer of `kind` (semantics §3.1–§3.6), with validated options: throws
/// ConfigError when options.percentile() is outside (0, 100] or NaN.
std::unique_ptr<EncodingAnalyzer> make_analyzer(AnalyzerKind kind, const AnalyzerOptions& options = {});

}  // namespace qsim::analysis
