#pragma once

// TF-enhanced's search (quantization-semantics.md §3.3; AIMET's
// TfEnhancedEncodingAnalyzer): candidate (Δ, offset) pairs, each scored on the
// shared histogram by quantization noise plus 3× saturation noise; the first
// strictly cheapest wins. All float32, as in AIMET's float analyzer, including
// its quirks: the clamped Δ carries over between the offsets of one scale factor
// (asymmetric), 101 float-accumulated scale factors with Δmax = 2A/N
// (symmetric), and a cost that always assumes 2^b − 1 steps, even in strict mode.

#include <string_view>
#include <vector>

#include "analysis/pdf_histogram.hpp"
#include "qsim/quant/encoding.hpp"

namespace qsim::analysis::detail {

struct Candidate {
  float delta;
  int offset;
};

/// §3.3 asymmetric candidates for the zero-widened range [lo, hi] and N = steps:
/// 17 scale factors × 21 offsets, clamped to the observed grid, then the observed
/// grid itself. Candidates whose clamped range is empty (Δ = 0, e.g. one-sided
/// data with offset −N) are skipped, and the zero Δ carries on as in AIMET.
std::vector<Candidate> asymmetric_candidates(float lo, float hi, float steps);

/// §3.3 symmetric candidates: Δmax = hi/N with offset 0 when lo == 0 and
/// unsigned is allowed, else Δmax = 2·max(|lo|, |hi|)/N with offset floor(−N/2);
/// Δ = f·Δmax for f = 0.01, 0.02, … ≤ 1.01 accumulated in float (101 values).
std::vector<Candidate> symmetric_candidates(float lo, float hi, float steps, bool unsigned_allowed);

/// _quantAndSatCost: 3·(saturation below + above) + quantization noise of the
/// pdf's bucket midpoints (x_left treated as left edges), with N_c = 2^b − 1.
float sqnr_cost(const PdfHistogram& pdf, int bitwidth, const Candidate& candidate);

/// The first candidate with the strictly smallest cost. Throws ValueError
/// (starting with `where`) when no cost is below FLT_MAX (AIMET would return
/// Δ = −1, o = −1): float32 overflowed on a huge range.
Candidate best_candidate(const PdfHistogram& pdf, int bitwidth, const std::vector<Candidate>& candidates,
                         std::string_view where);

/// The whole §3.3 computation for an initialised histogram: range, candidates,
/// best pair, then min = Δ·o (float), max = f32(Δ·N) + min (N after the strict
/// adjustment); no GRID call afterwards.
quant::Encoding sqnr_encoding(const PdfHistogram& pdf, int bitwidth, quant::Symmetry symmetry,
                              std::string_view where);

}  // namespace qsim::analysis::detail
