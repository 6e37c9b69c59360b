// EmbeddingGroupAnalyzer: the layout comes from the channels' ranges over every
// batch, and each group's encoding is the one the scheme's analyzer gives on that
// group's elements alone (one pass for TF, two for the histogram analyzers).

#include "qsim/analysis/embedding_group_analyzer.hpp"

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "qsim/quant/embedding_groups.hpp"
#include "support/expect_error.hpp"

namespace qsim::analysis {
namespace {

// Batches of [rows, 8] with two outlier channels (2 and 5) and one that only
// shows its range in the second batch (channel 7).
std::vector<at::Tensor> batches() {
  at::manual_seed(4);
  at::Tensor a = at::randn({10, 8});
  at::Tensor b = at::randn({3, 2, 8});
  a.select(1, 2).mul_(30);
  b.select(2, 5).mul_(25);
  b.select(2, 7).mul_(12);
  return {a, b};
}

at::Tensor group_values(const std::vector<at::Tensor>& xs, const std::vector<int64_t>& layout, int64_t g) {
  std::vector<at::Tensor> parts;
  for (const at::Tensor& x : xs) {
    std::vector<int64_t> channels;
    for (size_t c = 0; c < layout.size(); ++c)
      if (layout[c] == g) channels.push_back(static_cast<int64_t>(c));
    parts.push_back(x.reshape({-1, 8}).index_select(1, at::tensor(channels)).reshape({-1}));
  }
  return at::cat(parts);
}

class EmbeddingGroupAnalyzerTest : public ::testing::TestWithParam<AnalyzerKind> {};

TEST_P(EmbeddingGroupAnalyzerTest, EachGroupGetsItsAnalyzersEncoding) {
  EmbeddingGroupAnalyzer analyzer(GetParam(), 3, /*permute=*/true);
  for (const at::Tensor& x : batches()) analyzer.update_ranges(x);
  const at::Tensor all = at::cat({batches()[0], batches()[1].reshape({-1, 8})});
  const std::vector<int64_t> layout = analyzer.group_of_channel();
  EXPECT_EQ(layout, quant::range_based_groups(std::get<0>(all.min(0)), std::get<0>(all.max(0)), 3));
  // The three outlier channels share the last group.
  EXPECT_EQ(layout[2], 2);
  EXPECT_EQ(layout[5], 2);
  EXPECT_EQ(layout[7], 2);
  EXPECT_EQ(analyzer.needs_group_pass(), GetParam() != AnalyzerKind::tf);
  if (analyzer.needs_group_pass()) {
    for (const at::Tensor& x : batches()) analyzer.update_group_stats(x);
  }
  const std::vector<quant::Encoding> got = analyzer.compute_encodings(8, quant::Symmetry::asymmetric);
  ASSERT_EQ(got.size(), 3u);
  for (int64_t g = 0; g < 3; ++g) {
    // The reference: one analyzer of the same kind fed the group's elements, batch by batch.
    auto reference = make_analyzer(GetParam());
    for (const at::Tensor& x : batches()) reference->update_stats(group_values({x}, layout, g));
    EXPECT_EQ(got[static_cast<size_t>(g)], reference->compute_encoding(8, quant::Symmetry::asymmetric)) << "group " << g;
  }
  EXPECT_LT(got[0].max - got[0].min, got[2].max - got[2].min);
}

INSTANTIATE_TEST_SUITE_P(Kinds, EmbeddingGroupAnalyzerTest,
                         ::testing::Values(AnalyzerKind::tf, AnalyzerKind::tf_enhanced, AnalyzerKind::percentile,
                                           AnalyzerKind::mse),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(EmbeddingGroupAnalyzerErrorsTest, NamesWhatIsWrong) {
  EmbeddingGroupAnalyzer analyzer(AnalyzerKind::tf_enhanced, 4, true);
  QSIM_EXPECT_THROW_MSG(analyzer.group_of_channel(), ValueError, {"no statistics"});
  QSIM_EXPECT_THROW_MSG(analyzer.update_group_stats(at::randn({2, 8})), ValueError, {"before the layout"});
  analyzer.update_ranges(at::randn({2, 8}));
  QSIM_EXPECT_THROW_MSG(analyzer.update_ranges(at::randn({2, 6})), ValueError, {"6 channels", "earlier batches had 8"});
  QSIM_EXPECT_THROW_MSG(analyzer.update_ranges(at::full({2, 8}, std::nanf(""))), ValueError, {"NaN"});
  analyzer.group_of_channel();
  QSIM_EXPECT_THROW_MSG(analyzer.compute_encodings(8, quant::Symmetry::asymmetric), ValueError,
                        {"group 0 has no statistics"});
  QSIM_EXPECT_THROW_MSG(analyzer.update_ranges(at::randn({2, 8})), ValueError, {"pass 1 is over"});
  QSIM_EXPECT_THROW_MSG(EmbeddingGroupAnalyzer(AnalyzerKind::tf, 0, true), ConfigError, {"groups must be >= 1"});
  EmbeddingGroupAnalyzer too_many(AnalyzerKind::tf, 9, true);
  too_many.update_ranges(at::randn({2, 8}));
  QSIM_EXPECT_THROW_MSG(too_many.group_of_channel(), ValueError, {"9 groups for 8 channels"});
}

}  // namespace
}  // namespace qsim::analysis
