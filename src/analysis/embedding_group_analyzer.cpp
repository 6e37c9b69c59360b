#include "qsim/analysis/embedding_group_analyzer.hpp"

#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/quant/embedding_groups.hpp"

namespace qsim::analysis {

EmbeddingGroupAnalyzer::EmbeddingGroupAnalyzer(AnalyzerKind kind, int64_t groups, bool permute,
                                               const AnalyzerOptions& options)
    : kind_(kind), options_(options), groups_(groups), permute_(permute) {
  QSIM_CHECK(groups >= 1, ConfigError, "embedding-group analyzer: groups must be >= 1, got {}", groups);
  make_analyzer(kind_, options_);  // validates the options now, not at the first batch
}

// The batch as [rows, C] with C = the last axis, checked against earlier batches.
at::Tensor EmbeddingGroupAnalyzer::rows(const at::Tensor& batch) const {
  QSIM_CHECK(batch.defined() && at::isFloatingType(batch.scalar_type()) && batch.dim() >= 1, ValueError,
             "embedding-group analyzer: expected a floating-point tensor with at least one axis");
  const int64_t channels = batch.size(-1);
  QSIM_CHECK(!has_stats() || channels == num_channels(), ValueError,
             "embedding-group analyzer: batch of shape {} has {} channels on its last axis, earlier batches had {}",
             c10::str(batch.sizes()), channels, num_channels());
  return batch.detach().reshape({-1, channels});
}

void EmbeddingGroupAnalyzer::update_ranges(const at::Tensor& batch) {
  QSIM_CHECK(group_of_channel_.empty(), ValueError,
             "embedding-group analyzer: update_ranges after the layout was fixed (pass 1 is over)");
  const at::Tensor x = rows(batch);
  if (x.numel() == 0) return;
  const at::Tensor lo = x.amin(0).to(at::kFloat);
  const at::Tensor hi = x.amax(0).to(at::kFloat);
  QSIM_CHECK(!at::isnan(lo).any().item<bool>() && !at::isnan(hi).any().item<bool>(), ValueError,
             "embedding-group analyzer: the batch holds NaN values");
  if (has_stats()) {
    channel_min_ = at::minimum(channel_min_, lo);
    channel_max_ = at::maximum(channel_max_, hi);
  } else {
    channel_min_ = lo;
    channel_max_ = hi;
  }
}

const std::vector<int64_t>& EmbeddingGroupAnalyzer::group_of_channel() {
  if (!group_of_channel_.empty()) return group_of_channel_;
  QSIM_CHECK(has_stats(), ValueError, "embedding-group analyzer: no statistics (no non-empty batch was added)");
  group_of_channel_ = quant::range_based_groups(channel_min_, channel_max_, groups_, permute_);
  for (const std::vector<int64_t>& channels : quant::channels_of_groups(group_of_channel_, groups_)) {
    group_channels_.push_back(at::tensor(channels, at::kLong).to(channel_min_.device()));
    group_analyzers_.push_back(make_analyzer(kind_, options_));
  }
  return group_of_channel_;
}

void EmbeddingGroupAnalyzer::update_group_stats(const at::Tensor& batch) {
  QSIM_CHECK(!group_of_channel_.empty(), ValueError,
             "embedding-group analyzer: update_group_stats before the layout (call group_of_channel first)");
  const at::Tensor x = rows(batch);
  if (x.numel() == 0) return;
  for (std::size_t g = 0; g < group_analyzers_.size(); ++g) {
    try {
      group_analyzers_[g]->update_stats(x.index_select(1, group_channels_[g]));
    } catch (const ValueError& e) {
      throw ValueError(fmt::format("embedding group {}: {}", g, e.what()));
    }
  }
}

std::vector<quant::Encoding> EmbeddingGroupAnalyzer::compute_encodings(int bitwidth, quant::Symmetry symmetry) {
  group_of_channel();
  if (!needs_group_pass()) {
    // A TF analyzer's statistics are its batches' min and max, so the group's
    // extremes give exactly the encoding of all the group's elements.
    for (std::size_t g = 0; g < group_analyzers_.size(); ++g) {
      const at::Tensor index = group_channels_[g];
      const at::Tensor extremes = at::stack({channel_min_.index_select(0, index).min(), channel_max_.index_select(0, index).max()});
      group_analyzers_[g]->reset();
      group_analyzers_[g]->update_stats(extremes);
    }
  }
  std::vector<quant::Encoding> out;
  for (std::size_t g = 0; g < group_analyzers_.size(); ++g) {
    QSIM_CHECK(group_analyzers_[g]->has_stats(), ValueError,
               "embedding-group analyzer: group {} has no statistics (pass 2 did not run)", g);
    out.push_back(group_analyzers_[g]->compute_encoding(bitwidth, symmetry));
  }
  return out;
}

}  // namespace qsim::analysis
