// TF-enhanced (SQNR) analyzer, semantics §3.3. The data {−1, 1} give the
// histogram of pdf_histogram_test: x_left[i] = −3 + 3i/256, w = 3/256, mass 0.5
// in buckets 171 (x_left −0.99609375) and 341 (x_left 0.99609375), so the range is
// A = 0.99609375 = 255/256 and bucket midpoints are μ_i = −3 + (i + 0.5)·3/256:
// μ_171 = −0.990234375, μ_341 = 1.001953125.
#include <cmath>

#include <gtest/gtest.h>

#include "analysis/sqnr_search.hpp"
#include "analysis/tf_enhanced_analyzer.hpp"
#include "analyzer_test_util.hpp"

namespace qsim::analysis::test {
namespace {

using detail::Candidate;
using quant::Symmetry;

const detail::PdfHistogram& pdf_of(const EncodingAnalyzer& a) {
  return as<detail::TfEnhancedAnalyzer>(a).histogram();
}

// Cost of (Δ = 1/128, o = −128) at b = 8: m = −1, M = 127/128; first bucket
// floor((−1 + 3)·256/3) = 170, last floor((127/128 + 3)·256/3) = 340.
// Saturation above: bucket 341 against μ_340: 0.5·w², weighted by GAMMA = 3.
// Quantization: μ_171/Δ + 128 = 1.25 → q = 1 → −127/128, error 1/512: 0.5·(1/512)².
TEST(TfEnhancedTest, CostUsesBucketMidpointsAndGamma3) {
  const auto a = fed(AnalyzerKind::tf_enhanced, {batch({-1.0f, 1.0f})});
  const double w = 3.0 / 256;
  const double expected = 3 * 0.5 * w * w + 0.5 * std::pow(1.0 / 512, 2);
  EXPECT_NEAR(detail::sqnr_cost(pdf_of(*a), 8, Candidate{1.0f / 128, -128}), expected, 1e-9);
}

// §9.15: symmetric candidates are f·Δmax with Δmax = 2A/N = (255/128)/255 = 1/128
// and f = 0.01 … 1.01 accumulated in float: 101 candidates, offset floor(−127.5).
TEST(TfEnhancedTest, Quirk15SymmetricSearchHas101FloatCandidates) {
  const std::vector<Candidate> c = detail::symmetric_candidates(-0.99609375f, 0.99609375f, 255.0f, false);
  ASSERT_EQ(c.size(), 101u);
  EXPECT_EQ(c.front().offset, -128);
  EXPECT_NEAR(c.front().delta, 0.01 / 128, 1e-9);
  EXPECT_NEAR(c.back().delta, 1.01 / 128, 1e-8);
}

// Only Δ ≥ 0.99609375/127 (f ≥ 1.004) reaches bucket 341 (M = 127Δ), so only the
// 101st candidate f = 1.01 avoids saturating it. Its cost: μ_171/Δ + 128 = 2.505 →
// q = 3, error μ_171 + 125Δ ≈ −0.0039: far below the 3·0.5·w² of every other f.
TEST(TfEnhancedTest, Quirk15SymmetricPicksThe101stCandidate) {
  const auto a = fed(AnalyzerKind::tf_enhanced, {batch({-1.0f, 1.0f})});
  const quant::Encoding e = a->compute_encoding(8, Symmetry::symmetric);
  EXPECT_EQ(e.offset, -128.0);
  EXPECT_NEAR(e.delta, 1.01 / 128, 1e-8);
  EXPECT_NEAR(e.min, -128 * 1.01 / 128, 1e-6);
  // max = f32(Δ·255) + min: 127Δ (N = 255, no zero snap or GRID afterwards)
  EXPECT_NEAR(e.max, 127 * 1.01 / 128, 1e-6);
  EXPECT_EQ(e.max, static_cast<double>(static_cast<float>(e.delta) * 255.0f) + e.min);
}

// §9.15: strict mode searches with N = 254 (Δmax = (255/128)/254, offset −127) but
// the cost still assumes 2^b − 1 = 255 steps, so a candidate covers
// M = −127Δ + 255Δ = 128Δ. Then f = 1.00 already reaches bucket 341 (128Δ ≥
// 0.99609375) and quantizes bucket 171 best (error ≈ 0.0020). Had the cost used
// 254 steps (M = 127Δ < 0.99609375 at f = 1), f = 1.01 would have won.
TEST(TfEnhancedTest, Quirk15StrictCostStillUses255Steps) {
  const auto a = fed(AnalyzerKind::tf_enhanced, {batch({-1.0f, 1.0f})});
  const quant::Encoding e = a->compute_encoding(8, Symmetry::strict_symmetric);
  const double delta_max = (255.0 / 128) / 254;
  EXPECT_EQ(e.offset, -127.0);
  EXPECT_NEAR(e.delta, delta_max, 1e-8);
  EXPECT_NEAR(e.min, -127 * delta_max, 1e-6);
  EXPECT_NEAR(e.max, 127 * delta_max, 1e-6);  // f32(254Δ) + min
}

// Unsigned symmetric with data ≥ 0: Δmax = hi/N and offset 0.
TEST(TfEnhancedTest, UnsignedSymmetricCandidatesStartAtZero) {
  const std::vector<Candidate> c = detail::symmetric_candidates(0.0f, 2.0f, 255.0f, true);
  ASSERT_EQ(c.size(), 101u);
  EXPECT_EQ(c.front().offset, 0);
  EXPECT_NEAR(c[99].delta, 2.0 / 255, 1e-7);
}

// §9.15: in the asymmetric search the clamped Δ carries over between the offsets
// of one scale factor. Range [−1, 1]: Δobs = f32(2/255), which is slightly above
// 2/255, so −1/Δobs is just above −127.5 and oobs = −127; lo' = −127Δobs ≈ −0.99608,
// hi' = lo' + 255Δobs. Scale factors f ≤ 1 never exceed both ends, so they give
// 16 × 21 = 336 candidates. For f = 17/16, offset −255: m = −255·(17/16)Δobs < lo',
// M = 0 → clamped to [lo', 0]: Δ = −lo'/255, o = −255. The next offset −242 starts
// from that Δ (−242Δ ≈ −0.9453 ≥ lo', nothing to clamp): (Δ, −242). Without the
// carry it would start from (17/16)Δobs, clamp again and give o = −230.
TEST(TfEnhancedTest, Quirk15ClampedDeltaCarriesOverBetweenOffsets) {
  const std::vector<Candidate> c = detail::asymmetric_candidates(-1.0f, 1.0f, 255.0f);
  const double lo_grid = -127 * static_cast<double>(2.0f / 255.0f);
  ASSERT_GT(c.size(), 338u);
  EXPECT_EQ(c[336].offset, -255);
  EXPECT_NEAR(c[336].delta, -lo_grid / 255, 1e-8);
  EXPECT_EQ(c[337].offset, -242);
  EXPECT_NEAR(c[337].delta, -lo_grid / 255, 1e-8);
  // the observed grid comes last
  EXPECT_EQ(c.back().offset, -127);
  EXPECT_NEAR(c.back().delta, 2.0 / 255, 1e-9);
}

// The 21 offsets trunc(−255 + 12.75i).
TEST(TfEnhancedTest, AsymmetricOffsetsAreTruncatedTwentieths) {
  const std::vector<Candidate> c = detail::asymmetric_candidates(-1.0f, 1.0f, 255.0f);
  const int expected[21] = {-255, -242, -229, -216, -204, -191, -178, -165, -153, -140, -127,
                            -114, -102, -89,  -76,  -63,  -51,  -38,  -25,  -12,  0};
  for (int i = 0; i < 21; ++i) EXPECT_EQ(c[static_cast<size_t>(i)].offset, expected[i]) << "i = " << i;
}

// Degenerate candidates: for one-sided data lo' = 0, so offset −N clamps to the
// empty range [0, 0] (Δ = 0); it is skipped and the zero Δ carries on, so every
// scaled candidate goes and only the observed grid is left. Constant data 1:
// histogram [0.99, 1.02] with w = 0.03/512, 1 → bucket round(0.01/w) = 171, so the
// range is [0, x_left[171]] = [0, 0.99 + 171w ≈ 1.0000195]; result (x_left[171]/255, 0).
TEST(TfEnhancedTest, DegenerateCandidatesOfOneSidedDataAreSkipped) {
  EXPECT_EQ(detail::asymmetric_candidates(0.0f, 1.0f, 255.0f).size(), 1u);
  const auto a = fed(AnalyzerKind::tf_enhanced, {repeated(1.0f, 9)});
  const detail::FloatRange r = pdf_of(*a).original_range();
  EXPECT_EQ(r.min, 0.0f);
  EXPECT_NEAR(r.max, 0.99 + 171 * (0.03 / 512), 1e-6);
  const quant::Encoding e = a->compute_encoding(8, Symmetry::asymmetric);
  EXPECT_EQ(e.offset, 0.0);
  EXPECT_EQ(e.min, 0.0);
  EXPECT_EQ(e.delta, static_cast<double>(r.max / 255.0f));
  EXPECT_TRUE(std::isfinite(e.max));
}

// §3.3 step 1: only zeros seen ⇒ Δ = 2/255, o = floor(−127.5) = −128,
// min = −128·2/255 = −1.003922, max = min + 2 = 0.996078 (N = 255 even for strict).
TEST(TfEnhancedTest, AllZeroDataGivesTheFixedEncoding) {
  const auto a = fed(AnalyzerKind::tf_enhanced, {repeated(0.0f, 5), repeated(0.0f, 2)});
  for (Symmetry s : {Symmetry::asymmetric, Symmetry::strict_symmetric}) {
    const quant::Encoding e = a->compute_encoding(8, s);
    EXPECT_DOUBLE_EQ(e.delta, 2.0 / 255);
    EXPECT_EQ(e.offset, -128.0);
    EXPECT_DOUBLE_EQ(e.min, -128 * (2.0 / 255));
    EXPECT_DOUBLE_EQ(e.max, e.min + 255 * (2.0 / 255));
    EXPECT_NEAR(e.min, -1.003922, 1e-6);
    EXPECT_NEAR(e.max, 0.996078, 1e-6);
  }
}

// The chosen candidate is the cheapest one.
TEST(TfEnhancedTest, AsymmetricResultIsTheCheapestCandidate) {
  at::manual_seed(9);
  const auto a = fed(AnalyzerKind::tf_enhanced, {at::randn({5000}) * 0.7f + 0.2f, at::randn({3000})});
  const detail::PdfHistogram& h = pdf_of(*a);
  const detail::FloatRange r = h.original_range();
  const std::vector<Candidate> c = detail::asymmetric_candidates(r.min, r.max, 255.0f);
  const quant::Encoding e = a->compute_encoding(8, Symmetry::asymmetric);
  const float chosen = detail::sqnr_cost(h, 8, Candidate{static_cast<float>(e.delta), static_cast<int>(e.offset)});
  for (const Candidate& x : c) EXPECT_LE(chosen, detail::sqnr_cost(h, 8, x));
}

}  // namespace
}  // namespace qsim::analysis::test
