// Per-embedding-group quantization (quant/embedding_groups.hpp): the range-based
// permutation on hand-computed cases, and QuantizerNode with groups on the static
// and the learned grid, checked against quantizing each group's channels as one
// tensor of its own.

#include "qsim/quant/embedding_groups.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/quantizer_node.hpp"
#include "qsim/quant/range_learning.hpp"
#include "support/expect_error.hpp"

namespace qsim::quant {
namespace {

using Groups = std::vector<int64_t>;

// Channel ranges 1, 10, 2, 0.5, 20, 3 (min 0 except channel 4: [-15, 5]).
at::Tensor mins() { return at::tensor({0.f, 0.f, 0.f, 0.f, -15.f, 0.f}); }
at::Tensor maxs() { return at::tensor({1.f, 10.f, 2.f, 0.5f, 5.f, 3.f}); }

TEST(RangeBasedGroupsTest, SortsChannelsByRangeThenCutsEqualRuns) {
  // Ascending ranges: ch3 (0.5), ch0 (1), ch2 (2), ch5 (3), ch1 (10), ch4 (20).
  EXPECT_EQ(range_based_groups(mins(), maxs(), 3), (Groups{0, 2, 1, 0, 2, 1}));
  EXPECT_EQ(range_based_groups(mins(), maxs(), 2), (Groups{0, 1, 0, 0, 1, 1}));
  EXPECT_EQ(range_based_groups(mins(), maxs(), 6), (Groups{1, 4, 2, 0, 5, 3}));
  EXPECT_EQ(range_based_groups(mins(), maxs(), 1), (Groups{0, 0, 0, 0, 0, 0}));
}

TEST(RangeBasedGroupsTest, WithoutPermutationGroupsAreContiguous) {
  EXPECT_EQ(range_based_groups(mins(), maxs(), 3, /*permute=*/false), (Groups{0, 0, 1, 1, 2, 2}));
  // 5 channels in 2 groups: positions [0, 2) and [2, 5).
  EXPECT_EQ(range_based_groups(at::zeros({5}), at::ones({5}), 2, false), (Groups{0, 0, 1, 1, 1}));
}

TEST(RangeBasedGroupsTest, UnevenSizesAndTiesKeepChannelOrder) {
  // Equal ranges: the stable sort keeps channel order, so permuted = contiguous.
  EXPECT_EQ(range_based_groups(at::zeros({7}), at::ones({7}), 3), (Groups{0, 0, 1, 1, 2, 2, 2}));
  // The widest channel (1) goes last, into the larger group.
  EXPECT_EQ(range_based_groups(at::zeros({5}), at::tensor({1.f, 9.f, 1.f, 1.f, 1.f}), 2), (Groups{0, 1, 0, 1, 1}));
}

TEST(RangeBasedGroupsTest, RejectsBadGroupCountsAndNaN) {
  QSIM_EXPECT_THROW_MSG(range_based_groups(mins(), maxs(), 0), ValueError, {"0 groups", "6 channels"});
  QSIM_EXPECT_THROW_MSG(range_based_groups(mins(), maxs(), 7), ValueError, {"7 groups", "6 channels"});
  at::Tensor bad = maxs();
  bad[2] = std::nanf("");
  QSIM_EXPECT_THROW_MSG(range_based_groups(mins(), bad, 2), ValueError, {"channel 2", "NaN"});
  QSIM_EXPECT_THROW_MSG(range_based_groups(at::zeros({3}), at::ones({4}), 2), ValueError, {"same number"});
}

TEST(GroupLayoutTest, ChecksIndicesAndEmptyGroups) {
  check_group_layout({0, 1, 1, 0}, 2, "q");
  QSIM_EXPECT_THROW_MSG(check_group_layout({0, 2, 1}, 2, "q"), ValueError, {"channel 1", "group 2"});
  QSIM_EXPECT_THROW_MSG(check_group_layout({0, 0, 2}, 3, "q"), ValueError, {"group 1 has no channel"});
  EXPECT_EQ(channels_of_groups({1, 0, 1, 2}, 3), (std::vector<Groups>{{1}, {0, 2}, {3}}));
}

// x[..., channels of group g] as one flat tensor.
at::Tensor group_values(const at::Tensor& x, const Groups& group_of, int64_t g) {
  Groups channels;
  for (size_t c = 0; c < group_of.size(); ++c)
    if (group_of[c] == g) channels.push_back(static_cast<int64_t>(c));
  return x.reshape({-1, x.size(-1)}).index_select(1, at::tensor(channels)).reshape({-1});
}

QuantizerNode grouped_node(const Groups& layout, const std::vector<Encoding>& encodings) {
  QuantizerNode q(QuantizerOptions(8).embedding_groups(static_cast<int64_t>(encodings.size())).enabled(true));
  q->set_group_of_channel(layout);
  q->set_encodings(encodings);
  return q;
}

TEST(EmbeddingGroupsNodeTest, StaticGridQuantizesEachGroupWithItsEncoding) {
  const Groups layout{1, 0, 1, 1, 0};
  const std::vector<Encoding> encodings{make_encoding(-1, 1, 8, Symmetry::asymmetric),
                                        make_encoding(-20, 5, 8, Symmetry::asymmetric)};
  QuantizerNode q = grouped_node(layout, encodings);
  torch::manual_seed(0);
  const at::Tensor x = torch::randn({3, 4, 5}) * 4;
  const at::Tensor y = q->forward(x);
  for (int64_t g = 0; g < 2; ++g) {
    EXPECT_TRUE(torch::equal(group_values(y, layout, g),
                             fake_quantize_static(group_values(x, layout, g), encodings[static_cast<size_t>(g)])))
        << "group " << g;
  }
  // A hand-computed element: channel 1 (group 0, Δ = 2/255, o = −128) at x = 0.5.
  const at::Tensor one = torch::zeros({1, 5});
  one[0][1] = 0.5;
  EXPECT_FLOAT_EQ(q->forward(one)[0][1].item<float>(), static_cast<float>(2.0 / 255.0) * (192.0f - 128.0f));
  EXPECT_EQ(q->encodings(), encodings);
  QSIM_EXPECT_THROW_MSG(q->encoding(), ConfigError, {"2 embedding groups"});
}

TEST(EmbeddingGroupsNodeTest, RejectsWrongChannelCountsAndMissingLayout) {
  QuantizerNode q = grouped_node({0, 1, 0}, {make_encoding(-1, 1, 8, Symmetry::asymmetric),
                                             make_encoding(-2, 2, 8, Symmetry::asymmetric)});
  QSIM_EXPECT_THROW_MSG(q->forward(torch::randn({2, 4})), ValueError, {"over 3 channels", "[2, 4]"});
  QSIM_EXPECT_THROW_MSG(q->set_encodings({make_encoding(-1, 1, 8, Symmetry::asymmetric)}), ConfigError,
                        {"2 embedding groups take 2 encodings, got 1"});
  QSIM_EXPECT_THROW_MSG(q->set_group_of_channel({0, 0, 0}), ValueError, {"group 1 has no channel"});

  QuantizerNode fresh(QuantizerOptions(8).embedding_groups(2).enabled(true));
  fresh->set_encodings({make_encoding(-1, 1, 8, Symmetry::asymmetric), make_encoding(-2, 2, 8, Symmetry::asymmetric)});
  QSIM_EXPECT_THROW_MSG(fresh->forward(torch::randn({2, 3})), ConfigError, {"no channel layout"});
  QuantizerNode plain(QuantizerOptions(8));
  QSIM_EXPECT_THROW_MSG(plain->set_group_of_channel({0}), ConfigError, {"without embedding groups"});
}

// On the learned grid a group learns as one tensor made of its channels: the same
// forward values and the same §5.4 gradients for its min and max.
TEST(EmbeddingGroupsNodeTest, LearnedGridGroupLearnsAsOneTensor) {
  const Groups layout{2, 0, 1, 0, 2, 1, 0};
  const std::vector<Encoding> encodings{make_encoding(-1, 1, 8, Symmetry::asymmetric),
                                        make_encoding(-0.5, 3, 8, Symmetry::asymmetric),
                                        make_encoding(-6, 2, 8, Symmetry::asymmetric)};
  QuantizerNode q = grouped_node(layout, encodings);
  q->switch_to_learned_grid();
  ASSERT_EQ(q->encoding_min.numel(), 3);
  torch::manual_seed(1);
  const at::Tensor x = (torch::randn({5, 6, 7}) * 2).set_requires_grad(true);
  const at::Tensor g = torch::randn({5, 6, 7});
  const at::Tensor y = q->forward(x);
  y.backward(g);
  for (int64_t k = 0; k < 3; ++k) {
    const at::Tensor xk = group_values(x.detach(), layout, k).set_requires_grad(true);
    const at::Tensor mk = q->encoding_min.detach()[k].reshape({1}).clone().set_requires_grad(true);
    const at::Tensor big_mk = q->encoding_max.detach()[k].reshape({1}).clone().set_requires_grad(true);
    RangeLearningOptions options;
    const at::Tensor yk = range_learning_quantize(xk, mk, big_mk, options);
    yk.backward(group_values(g, layout, k));
    EXPECT_TRUE(torch::equal(group_values(y.detach(), layout, k), yk.detach())) << "group " << k;
    EXPECT_TRUE(torch::equal(group_values(x.grad(), layout, k), xk.grad())) << "group " << k;
    EXPECT_NEAR(q->encoding_min.grad()[k].item<float>(), mk.grad().item<float>(), 1e-5) << "group " << k;
    EXPECT_NEAR(q->encoding_max.grad()[k].item<float>(), big_mk.grad().item<float>(), 1e-5) << "group " << k;
    EXPECT_NE(q->encoding_max.grad()[k].item<float>(), 0.0f);
  }
}

TEST(EmbeddingGroupsNodeTest, InPlacePathMatchesTheCopyingPath) {
  const Groups layout{0, 1, 1, 0};
  QuantizerNode q = grouped_node(layout, {make_encoding(-1, 1, 8, Symmetry::asymmetric),
                                          make_encoding(-3, 1, 8, Symmetry::asymmetric)});
  torch::NoGradGuard no_grad;
  for (bool learned : {false, true}) {
    if (learned) q->switch_to_learned_grid();
    torch::manual_seed(2);
    const at::Tensor x = torch::randn({6, 4}) * 2;
    const at::Tensor expected = q->forward(x);
    at::Tensor owned = x.clone();
    const at::Tensor got = q->forward_owned(std::move(owned));
    EXPECT_TRUE(torch::equal(got, expected)) << (learned ? "learned" : "static");
  }
}

}  // namespace
}  // namespace qsim::quant
