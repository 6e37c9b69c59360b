#include "qsim/analysis/per_channel_analyzer.hpp"

#include <fmt/format.h>

#include "detail/check.hpp"

namespace qsim::analysis {
namespace {

std::string shape_of(const at::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes(), ", ")); }

}  // namespace

PerChannelAnalyzer::PerChannelAnalyzer(AnalyzerKind kind, int64_t axis, const AnalyzerOptions& options)
    : kind_(kind), options_(options), axis_(axis) {
  make_analyzer(kind_, options_);  // validates the options now, not at the first batch
}

void PerChannelAnalyzer::update_stats(const at::Tensor& batch) {
  QSIM_CHECK(batch.defined(), ValueError, "per-channel {} analyzer: the batch is an undefined tensor",
             to_string(kind_));
  const int64_t dims = batch.dim();
  QSIM_CHECK(axis_ >= -dims && axis_ < dims, ValueError,
             "per-channel {} analyzer: axis {} is out of range for a batch of shape {} (expected {}..{})",
             to_string(kind_), axis_, shape_of(batch), -dims, dims - 1);
  const int64_t axis = axis_ < 0 ? axis_ + dims : axis_;
  const int64_t count = batch.size(axis);
  if (channels_.empty() && batch.numel() == 0) return;
  QSIM_CHECK(channels_.empty() || count == num_channels(), ValueError,
             "per-channel {} analyzer: batch of shape {} has {} channels along axis {}, earlier batches had {}",
             to_string(kind_), shape_of(batch), count, axis_, num_channels());
  // Channel-major copy, so each slice is contiguous.
  const at::Tensor slices = batch.movedim(axis, 0).reshape({count, -1});
  std::vector<std::unique_ptr<EncodingAnalyzer>> next;
  next.reserve(static_cast<size_t>(count));
  for (int64_t c = 0; c < count; ++c) {
    next.push_back(channels_.empty() ? make_analyzer(kind_, options_) : channels_[static_cast<size_t>(c)]->clone());
    try {
      next.back()->update_stats(slices[c]);
    } catch (const ValueError& e) {
      throw ValueError(fmt::format("channel {}: {}", c, e.what()));
    }
  }
  channels_ = std::move(next);
}

std::vector<quant::Encoding> PerChannelAnalyzer::compute_encodings(int bitwidth, quant::Symmetry symmetry) const {
  QSIM_CHECK(!channels_.empty(), ValueError,
             "per-channel {} analyzer: no statistics to compute encodings from (no non-empty batch was added)",
             to_string(kind_));
  std::vector<quant::Encoding> out;
  out.reserve(channels_.size());
  for (size_t c = 0; c < channels_.size(); ++c) {
    try {
      out.push_back(channels_[c]->compute_encoding(bitwidth, symmetry));
    } catch (const ValueError& e) {
      throw ValueError(fmt::format("channel {}: {}", c, e.what()));
    }
  }
  return out;
}

void PerChannelAnalyzer::reset() { channels_.clear(); }

const EncodingAnalyzer& PerChannelAnalyzer::channel(int64_t c) const {
  QSIM_CHECK(c >= 0 && c < num_channels(), ValueError, "per-channel {} analyzer: channel {} out of range [0, {})",
             to_string(kind_), c, num_channels());
  return *channels_[static_cast<size_t>(c)];
}

}  // namespace qsim::analysis
