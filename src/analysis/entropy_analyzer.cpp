#include "analysis/entropy_analyzer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "analysis/grid_steps.hpp"

namespace qsim::analysis::detail {
namespace {

constexpr size_t kQuantizedBins = 255;

// std::accumulate(…, 0.f) as AIMET writes it: the running sum is a float.
float float_sum(const std::vector<double>& v) {
  float sum = 0.f;
  for (double x : v) sum = static_cast<float>(sum + x);
  return sum;
}

// _conditionHistogram: zeros become 1e-4, non-zeros give up the same total mass;
// skipped when that would take ≥ 1 from each non-zero bucket.
void condition(std::vector<double>& h) {
  const double eps_zero = 0.0001;
  size_t zeros = 0;
  for (double v : h) zeros += v == 0.f ? 1 : 0;
  if (zeros == h.size()) return;
  const double eps_nonzero = eps_zero * static_cast<double>(zeros) / static_cast<double>(h.size() - zeros);
  if (eps_nonzero >= 1.0) return;
  for (double& v : h) v = v == 0.f ? v + eps_zero : v - eps_nonzero;
}

double kl_divergence(std::vector<double>& p, std::vector<double>& q) {
  const double sum_p = float_sum(p);
  const double sum_q = float_sum(q);
  double divergence = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    p[i] /= sum_p;
    q[i] /= sum_q;
    if (p[i] > 0 && q[i] > 0) divergence += p[i] * std::log(p[i] / q[i]);
  }
  return divergence;
}

// P: the window [start, stop] of the histogram with the mass outside folded
// into its end buckets.
std::vector<double> reference(const std::vector<double>& hist, size_t start, size_t stop) {
  std::vector<double> p(stop - start + 1, 0.0);
  double left = 0;
  for (size_t i = 0; i <= start; ++i) left += hist[i];
  p.front() += left;
  for (size_t i = start + 1; i < stop; ++i) p[i - start] = hist[i];
  double right = 0;
  for (size_t i = stop; i < hist.size(); ++i) right += hist[i];
  p.back() += right;
  return p;
}

// Q: the window merged into 255 groups (boundaries ceil(k·size/255)), each
// group's sum spread evenly over its non-zero buckets.
std::vector<double> quantized(const std::vector<double>& hist, size_t start, size_t stop) {
  const size_t size = stop - start + 1;
  const double* window = hist.data() + start;
  const double merged = static_cast<double>(size) / static_cast<double>(kQuantizedBins);
  std::vector<double> q(size, 0.0);
  for (size_t k = 0; k < kQuantizedBins; ++k) {
    const auto begin = static_cast<size_t>(std::ceil(static_cast<double>(k) * merged));
    const size_t end =
        k < kQuantizedBins - 1 ? static_cast<size_t>(std::ceil(static_cast<double>(k + 1) * merged)) : size;
    double sum = 0;
    double nonzero = 0;
    for (size_t i = begin; i < end; ++i) {
      sum += window[i];
      nonzero += window[i] != 0 ? 1 : 0;
    }
    if (nonzero == 0) continue;
    for (size_t i = begin; i < end; ++i) {
      if (window[i] != 0) q[i] = sum / nonzero;
    }
  }
  return q;
}

struct Window {
  size_t start;
  size_t stop;
};

// The next window of an asymmetric search: drop one bucket on each side, or two
// on the left, or two on the right, whichever loses the least mass, keeping 0
// inside the window.
Window shrink_asymmetric(const std::vector<double>& hist, Window w, double hist_min, double width) {
  const double loss[3] = {hist[w.start] + hist[w.stop], hist[w.start] + hist[w.start + 1],
                          hist[w.stop] + hist[w.stop - 1]};
  int choice = static_cast<int>(std::min_element(loss, loss + 3) - loss);
  auto edge = [&](size_t i) { return hist_min + static_cast<double>(i) * width; };
  if ((choice == 0 && edge(w.start + 1) > 0) || (choice == 1 && edge(w.start + 2) > 0)) {
    choice = 2;
  } else if ((choice == 0 && edge(w.stop) < 0) || (choice == 2 && edge(w.stop - 1) < 0)) {
    choice = 1;
  }
  if (choice == 0) return {w.start + 1, w.stop - 1};
  if (choice == 1) return {w.start + 2, w.stop};
  return {w.start, w.stop - 2};
}

}  // namespace

void EntropyAnalyzer::do_update_stats(const FloatBatch& batch) { histogram_.update(batch, where()); }

std::pair<float, float> EntropyAnalyzer::kl_range(int bitwidth, quant::Symmetry symmetry) const {
  const GridFlags flags = grid_flags(symmetry);
  double hist_min = histogram_.min();
  double hist_max = histogram_.max();
  std::vector<double> hist(histogram_.counts().begin(), histogram_.counts().end());
  if (flags.symmetric && (hist_min < 0.0 || !flags.unsigned_allowed)) {
    const float abs_max = static_cast<float>(std::max(std::fabs(hist_max), std::fabs(hist_min)));
    hist = rescale_histogram(hist, hist_min, hist_max, -abs_max, abs_max);
    hist_min = -abs_max;
    hist_max = abs_max;
  }
  const size_t bins = hist.size();
  if (bins < kQuantizedBins || bitwidth != 8) return {static_cast<float>(hist_min), static_cast<float>(hist_max)};

  const double width = (hist_max - hist_min) / static_cast<double>(bins);
  double best = std::numeric_limits<double>::infinity();
  double best_min = hist_min;
  double best_max = hist_max;
  Window w{0, bins - 1};
  while (w.stop - w.start + 1 >= kQuantizedBins) {
    std::vector<double> p = reference(hist, w.start, w.stop);
    std::vector<double> q = quantized(hist, w.start, w.stop);
    if (float_sum(p) == 0 || float_sum(q) == 0) break;
    condition(p);
    condition(q);
    const double divergence = kl_divergence(p, q);
    if (divergence < best) {
      best = divergence;
      best_min = hist_min + static_cast<double>(w.start) * width;
      best_max = hist_min + static_cast<double>(w.stop + 1) * width;
    }
    w = flags.symmetric ? Window{w.start + 1, w.stop - 1} : shrink_asymmetric(hist, w, hist_min, width);
  }
  return {static_cast<float>(best_min), static_cast<float>(best_max)};
}

quant::Encoding EntropyAnalyzer::do_compute_encoding(int bitwidth, quant::Symmetry symmetry) const {
  const GridFlags flags = grid_flags(symmetry);
  if (!histogram_.initialized()) {
    return all_zero_encoding(bitwidth, float_steps(bitwidth, flags.symmetric && flags.strict));
  }
  const auto [lo, hi] = kl_range(bitwidth, symmetry);
  return quant::make_encoding(std::min(lo, 0.0f), std::max(hi, 0.0f), bitwidth, symmetry);
}

std::unique_ptr<EncodingAnalyzer> EntropyAnalyzer::do_clone() const { return std::make_unique<EntropyAnalyzer>(*this); }

}  // namespace qsim::analysis::detail
