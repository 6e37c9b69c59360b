// Per-channel analysis: one analyzer state per slice (semantics §6).
#include <gtest/gtest.h>

#include "analyzer_test_util.hpp"
#include "qsim/analysis/per_channel_analyzer.hpp"
#include "support/expect_error.hpp"

namespace qsim::analysis::test {
namespace {

using quant::Symmetry;

constexpr AnalyzerKind kAll[] = {AnalyzerKind::tf, AnalyzerKind::tf_enhanced, AnalyzerKind::percentile,
                                 AnalyzerKind::mse, AnalyzerKind::entropy};

// Each channel's encoding equals that of a per-tensor analyzer fed the same
// slices, for every axis, with batches of different sizes.
TEST(PerChannelAnalyzerTest, EqualsPerTensorOnEachSlice) {
  at::manual_seed(21);
  const std::vector<at::Tensor> batches = {at::randn({3, 4, 50}) * 2.0f, at::randn({3, 4, 17}) + 0.5f};
  for (AnalyzerKind k : kAll) {
    const AnalyzerOptions options = AnalyzerOptions().percentile(99.0);
    for (int64_t axis : {0, 1, -2}) {
      PerChannelAnalyzer pc(k, axis, options);
      for (const at::Tensor& b : batches) pc.update_stats(b);
      const int64_t dim = axis < 0 ? axis + 3 : axis;
      ASSERT_EQ(pc.num_channels(), batches[0].size(dim));
      const std::vector<quant::Encoding> got = pc.compute_encodings(8, Symmetry::asymmetric);
      for (int64_t c = 0; c < pc.num_channels(); ++c) {
        auto single = make_analyzer(k, options);
        for (const at::Tensor& b : batches) single->update_stats(b.select(dim, c));
        EXPECT_EQ(got[static_cast<size_t>(c)], single->compute_encoding(8, Symmetry::asymmetric))
            << to_string(k) << " axis " << axis << " channel " << c;
      }
    }
  }
}

TEST(PerChannelAnalyzerTest, RejectsAxisOutOfRange) {
  PerChannelAnalyzer pc(AnalyzerKind::tf, 2);
  QSIM_EXPECT_THROW_MSG(pc.update_stats(at::zeros({2, 3})), ValueError,
                        {"per-channel tf analyzer", "axis 2", "[2, 3]", "-2..1"});
  PerChannelAnalyzer negative(AnalyzerKind::tf, -3);
  QSIM_EXPECT_THROW_MSG(negative.update_stats(at::zeros({2, 3})), ValueError, {"axis -3"});
}

TEST(PerChannelAnalyzerTest, RejectsAChangingChannelCount) {
  PerChannelAnalyzer pc(AnalyzerKind::tf_enhanced, 0);
  pc.update_stats(at::randn({4, 5}));
  QSIM_EXPECT_THROW_MSG(pc.update_stats(at::randn({3, 5})), ValueError, {"3 channels", "had 4"});
}

// A NaN in channel 2 names the channel and leaves every channel as it was.
TEST(PerChannelAnalyzerTest, BadSliceLeavesAllChannelsUnchanged) {
  PerChannelAnalyzer pc(AnalyzerKind::percentile, 1);
  at::manual_seed(5);
  pc.update_stats(at::randn({6, 4}));
  const std::vector<quant::Encoding> before = pc.compute_encodings(8, Symmetry::symmetric);
  at::Tensor bad = at::randn({6, 4}) * 10.0f;
  bad[3][2] = std::nanf("");
  QSIM_EXPECT_THROW_MSG(pc.update_stats(bad), ValueError, {"channel 2", "batch 1", "NaN or Inf"});
  EXPECT_EQ(pc.compute_encodings(8, Symmetry::symmetric), before);
}

TEST(PerChannelAnalyzerTest, NoDataAndBadOptions) {
  PerChannelAnalyzer pc(AnalyzerKind::mse, 0);
  pc.update_stats(at::empty({0, 3}));
  EXPECT_EQ(pc.num_channels(), 0);
  QSIM_EXPECT_THROW_MSG(pc.compute_encodings(8, Symmetry::asymmetric), ValueError, {"no statistics"});
  QSIM_EXPECT_THROW_MSG(PerChannelAnalyzer(AnalyzerKind::percentile, 0, AnalyzerOptions().percentile(0)),
                        ConfigError, {"percentile"});
  // an empty batch does not fix the channel count, even with channels along the axis
  pc.update_stats(at::empty({3, 0}));
  EXPECT_EQ(pc.num_channels(), 0);
  pc.update_stats(at::randn({2, 4}));
  EXPECT_EQ(pc.num_channels(), 2);
}

}  // namespace
}  // namespace qsim::analysis::test
