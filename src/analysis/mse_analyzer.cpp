#include "analysis/mse_analyzer.hpp"

#include <algorithm>
#include <cfloat>
#include <utility>
#include <vector>

#include "analysis/float_ops.hpp"
#include "analysis/grid_steps.hpp"

namespace qsim::analysis::detail {
namespace {

struct Centre {
  float value;
  float weight;  // the pdf of the bucket holding the centre
};

// [lo] followed by every float-accumulated edge xLeft[0] + k·w (≤ the histogram's
// right end) inside [lo, hi]. The iteration cap only matters when w is below the
// float spacing of the edges, where AIMET's loop would never end.
std::vector<float> bin_edges(const PdfHistogram& pdf, float lo, float hi) {
  const float width = pdf.bucket_width();
  const float hist_end = static_cast<float>(pdf.x_left()[kBuckets - 1] + width);
  std::vector<float> edges{lo};
  int steps = 0;
  for (float e = pdf.start(); e <= hist_end && steps <= 2 * kBuckets; e += width, ++steps) {
    if (e >= lo && e <= hi) edges.push_back(e);
  }
  return edges;
}

// _pickMinMaxCandidatesMSECalib: negative edges then 0 as minima, positive edges
// then 0 as maxima, every pair except the final (0, 0).
std::vector<std::pair<float, float>> range_candidates(const std::vector<float>& edges) {
  std::vector<float> mins;
  std::vector<float> maxs;
  for (float e : edges) {
    if (e < 0) mins.push_back(e);
    else if (e > 0) maxs.push_back(e);
  }
  mins.push_back(0);
  maxs.push_back(0);
  std::vector<std::pair<float, float>> out;
  out.reserve(mins.size() * maxs.size());
  for (float a : mins) {
    for (float b : maxs) out.emplace_back(a, b);
  }
  out.pop_back();
  return out;
}

std::vector<Centre> bin_centres(const PdfHistogram& pdf, float lo, size_t count) {
  const float width = pdf.bucket_width();
  std::vector<Centre> centres(count);
  float value = lo + width / 2;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) value = value + width;
    const int bucket = bucket_index(value, pdf.start(), width);
    centres[i] = {value, static_cast<float>(pdf.pdf()[static_cast<size_t>(bucket)])};
  }
  return centres;
}

// _computeMSECost: the candidate's GRID encoding applied to each centre (clamped
// in float, quantized in double), error against the unclamped centre.
float mse_cost(const std::vector<Centre>& centres, float cmin, float cmax, int bitwidth, quant::Symmetry symmetry) {
  const quant::Encoding e = quant::make_encoding(cmin, cmax, bitwidth, symmetry);
  float cost = 0;
  for (const Centre& c : centres) {
    const float clamped = std::max(cmin, std::min(c.value, cmax));
    const int q = to_int(std::round(static_cast<double>(clamped) / e.delta - e.offset));
    const float dequantized = static_cast<float>(e.delta * (q + e.offset));
    cost = add_square(cost, c.weight, c.value - dequantized);
  }
  return cost;
}

}  // namespace

void MseAnalyzer::do_update_stats(const FloatBatch& batch) { pdf_.update(batch, where()); }

FloatRange MseAnalyzer::best_range(int bitwidth, quant::Symmetry symmetry) const {
  const FloatRange original = pdf_.original_range();
  const float lo = original.min;
  const float hi = original.max + pdf_.bucket_width();
  const std::vector<float> edges = bin_edges(pdf_, lo, hi);
  const std::vector<Centre> centres = bin_centres(pdf_, lo, edges.size() - 1);
  float best_cost = FLT_MAX;
  FloatRange best{lo, hi};
  for (const auto& [cmin, cmax] : range_candidates(edges)) {
    const float cost = mse_cost(centres, cmin, cmax, bitwidth, symmetry);
    if (cost < best_cost) {
      best_cost = cost;
      best = {cmin, cmax};
    }
  }
  return best;
}

quant::Encoding MseAnalyzer::do_compute_encoding(int bitwidth, quant::Symmetry symmetry) const {
  const GridFlags flags = grid_flags(symmetry);
  if (!pdf_.initialized()) return all_zero_encoding(bitwidth, float_steps(bitwidth, flags.symmetric && flags.strict));
  const FloatRange best = best_range(bitwidth, symmetry);
  return quant::make_encoding(std::min(best.min, 0.0f), std::max(best.max, 0.0f), bitwidth, symmetry);
}

std::unique_ptr<EncodingAnalyzer> MseAnalyzer::do_clone() const { return std::make_unique<MseAnalyzer>(*this); }

}  // namespace qsim::analysis::detail
