// The fused Q/K/V projection (src/models/fused_qkv.hpp): against the three Linear
// blocks within float rounding (one wide GEMM sums in another order), with its
// output quantizers fused bit-identical to quantizing each slice afterwards
// (static grid with different encodings and embedding groups, at BERT-base width
// over several row blocks), learned and observed quantizers on their slices, and
// declined where it cannot apply.

#include "models/fused_qkv.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/quant/prepared_fake_quant.hpp"

namespace qsim::models::bert::detail {
namespace {

struct Projections {
  explicit Projections(int64_t width) : q(width, width), k(width, width), v(width, width) {
    torch::manual_seed(12);
    torch::NoGradGuard no_grad;
    for (nn::Linear* l : {&q, &k, &v}) {
      (*l)->weight.normal_(0.0, 0.05);
      (*l)->bias.normal_(0.0, 0.1);
    }
  }
  std::array<torch::Tensor, 3> separate(const torch::Tensor& h) { return {q(h), k(h), v(h)}; }
  nn::Linear q, k, v;
};

void quantize_outputs(Projections& p, int64_t width, bool value_in_groups = true) {
  const double ranges[3] = {1.0, 2.5, 0.7};
  int i = 0;
  for (nn::Linear* l : {&p.q, &p.k, &p.v}) {
    auto node = (*l)->output_quantizer;
    node->options.enabled(true);
    node->set_encoding(quant::make_encoding(-ranges[i], 1.3 * ranges[i], 8, quant::Symmetry::asymmetric));
    ++i;
  }
  if (!value_in_groups) return;
  // The value projection in two embedding groups.
  auto v = p.v->output_quantizer;
  v->options.embedding_groups(2);
  std::vector<int64_t> layout;
  for (int64_t c = 0; c < width; ++c) layout.push_back(c % 7 == 0 ? 1 : 0);
  v->set_group_of_channel(layout);
  v->set_encodings({quant::make_encoding(-0.5, 0.5, 8, quant::Symmetry::asymmetric),
                    quant::make_encoding(-4, 4, 8, quant::Symmetry::asymmetric)});
}

void expect_same(const std::array<torch::Tensor, 3>& a, const std::array<torch::Tensor, 3>& b) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(torch::equal(a[static_cast<size_t>(i)], b[static_cast<size_t>(i)])) << "projection " << i;
  }
}

void expect_close(const std::array<torch::Tensor, 3>& a, const std::array<torch::Tensor, 3>& b) {
  for (int i = 0; i < 3; ++i) {
    const double diff = (a[static_cast<size_t>(i)] - b[static_cast<size_t>(i)]).abs().max().item<double>();
    EXPECT_LE(diff, 1e-5) << "projection " << i;
  }
}

TEST(FusedQkvTest, MatchesTheThreeLinearsAndFusesTheirQuantizers) {
  const int64_t width = 768;
  Projections p(width);
  torch::manual_seed(13);
  const torch::Tensor hidden = torch::randn({2, 300, width});  // 600 rows: three row blocks
  torch::NoGradGuard no_grad;
  FusedQkv fused;
  auto all_off = fused.project(*p.q, *p.k, *p.v, hidden);
  ASSERT_TRUE(all_off.has_value()) << "every quantizer off: one GEMM";
  expect_close(*all_off, p.separate(hidden));

  quantize_outputs(p, width);
  const int64_t before = quant::fused_quantizer_count();
  auto quantized = fused.project(*p.q, *p.k, *p.v, hidden);
  ASSERT_TRUE(quantized.has_value());
  EXPECT_EQ(quant::fused_quantizer_count(), before + 1) << "static output quantizers: fused per column range";
  std::optional<std::array<torch::Tensor, 3>> slices;
  {
    const quant::FusionGuard off(false);
    slices = fused.project(*p.q, *p.k, *p.v, hidden);
  }
  ASSERT_TRUE(slices.has_value());
  expect_same(*quantized, *slices);
  for (int i = 0; i < 3; ++i) {
    nn::Linear* l = i == 0 ? &p.q : (i == 1 ? &p.k : &p.v);
    const torch::Tensor raw = (*all_off)[static_cast<size_t>(i)].contiguous();
    EXPECT_TRUE(torch::equal((*quantized)[static_cast<size_t>(i)], (*l)->output_quantizer->forward(raw)))
        << "projection " << i << ": its own quantizer on the one-GEMM result";
  }

  // A weight update reaches the stacked copy: the same bits as a fresh stack (the
  // three separate GEMMs may round differently and flip a quantization step).
  p.k->weight.mul_(0.5);
  auto updated = fused.project(*p.q, *p.k, *p.v, hidden);
  ASSERT_TRUE(updated.has_value());
  auto fresh = FusedQkv().project(*p.q, *p.k, *p.v, hidden);
  ASSERT_TRUE(fresh.has_value());
  expect_same(*updated, *fresh);
  EXPECT_FALSE(torch::equal((*updated)[1], (*quantized)[1])) << "k's weights changed";

  // A learned quantizer and an observer: each applied to its slice.
  p.q->output_quantizer->switch_to_learned_grid();
  int observed = 0;
  p.k->output_quantizer->set_observer([&](const torch::Tensor& x) { observed += x.size(-1) == width ? 1 : 0; });
  auto mixed = fused.project(*p.q, *p.k, *p.v, hidden);
  ASSERT_TRUE(mixed.has_value());
  EXPECT_EQ(observed, 1);
  // q's weights did not change, and its columns do not depend on k's values.
  EXPECT_TRUE(torch::equal((*mixed)[0], p.q->output_quantizer->forward((*all_off)[0].contiguous())));
}

// Three per-tensor quantizers (BERT's case) take the three-segments-per-row form
// of the epilogue: the same bits as each quantizer on its own slice.
TEST(FusedQkvTest, PerTensorQuantizersFuseBitIdentical) {
  const int64_t width = 200;
  Projections p(width);
  torch::manual_seed(14);
  const torch::Tensor hidden = torch::randn({3, 170, width}) * 2.0;
  torch::NoGradGuard no_grad;
  FusedQkv fused;
  const auto raw = fused.project(*p.q, *p.k, *p.v, hidden);
  ASSERT_TRUE(raw.has_value());
  quantize_outputs(p, width, /*value_in_groups=*/false);
  const int64_t before = quant::fused_quantizer_count();
  const auto quantized = fused.project(*p.q, *p.k, *p.v, hidden);
  ASSERT_TRUE(quantized.has_value());
  EXPECT_EQ(quant::fused_quantizer_count(), before + 1);
  for (int i = 0; i < 3; ++i) {
    nn::Linear* l = i == 0 ? &p.q : (i == 1 ? &p.k : &p.v);
    const torch::Tensor own = (*l)->output_quantizer->forward((*raw)[static_cast<size_t>(i)].contiguous());
    EXPECT_TRUE(torch::equal((*quantized)[static_cast<size_t>(i)], own)) << "projection " << i;
  }
}

TEST(FusedQkvTest, DeclinesWhereItCannotApply) {
  Projections p(16);
  const torch::Tensor hidden = torch::randn({2, 5, 16});
  FusedQkv fused;
  EXPECT_FALSE(fused.project(*p.q, *p.k, *p.v, hidden).has_value()) << "grad mode on";
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(fused.project(*p.q, *p.k, *p.v, hidden).has_value());
  p.v->input_quantizer(0)->set_enabled(true);
  EXPECT_FALSE(fused.project(*p.q, *p.k, *p.v, hidden).has_value()) << "an input quantizer on";
}

}  // namespace
}  // namespace qsim::models::bert::detail
