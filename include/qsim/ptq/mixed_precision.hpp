#pragma once

// Automatic mixed precision, as AIMET (1.34+) chooses bitwidths: candidates are
// (activation bits, weight bits) pairs; quantizer groups (mixed_precision_groups)
// switch together. Everything starts at the most expensive candidate (the baseline).
//  * Phase 1: each group alone at each cheaper candidate, scored with a cheap
//    callback (e.g. SQNR of the logits on a few samples). Scores are cached in a file
//    (if given), so an interrupted run resumes where it stopped.
//  * Phase 2: the (group, candidate) pairs sorted by phase-1 score, least sensitive
//    first, applied one after the other where they lower the BitOps (a group whose
//    tensors no Linear or MatMul reads cannot, and stays at the baseline); each step is
//    scored with the real metric, giving a list of (relative BitOps, score) points
//    that falls monotonically in BitOps (the Pareto curve).
//  * The configuration with the fewest BitOps whose score is within `allowed_drop`
//    of FP32 is applied to the sim (calibrated, quantized mode) and returned as
//    per-quantizer bitwidth overrides that SimOptions (and bert_eval) take back.
// Every configuration scored is calibrated afresh with the user's forward pass.
//
//   auto amp = qsim::ptq::choose_mixed_precision(sim, {calibrate, cheap_score, evaluate},
//       AmpOptions().candidates(qsim::ptq::parse_candidates("8/8,4/8")).allowed_drop(1.0));

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/module.h>

#include "qsim/ptq/bitops.hpp"
#include "qsim/ptq/quantizer_groups.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "qsim/sim/sim_options.hpp"

namespace qsim::ptq {

struct Candidate {
  int activation_bits = 8;
  int weight_bits = 8;
  std::string label() const;  ///< "A8/W8"
  bool operator==(const Candidate& o) const {
    return activation_bits == o.activation_bits && weight_bits == o.weight_bits;
  }
};

/// "8/8,16/8,4/8": activation bits / weight bits, comma separated. ConfigError naming
/// the text for anything else, or for candidates validate_candidates refuses.
std::vector<Candidate> parse_candidates(std::string_view text);
/// ConfigError for an empty list, duplicates, activation bits outside [4, 32] or
/// weight bits outside [2, 32] (SimOptions' ranges).
void validate_candidates(const std::vector<Candidate>& candidates);

struct AmpCallbacks {
  std::function<void(torch::nn::Module&)> calibrate;      ///< the calibration forward pass
  std::function<double(torch::nn::Module&)> phase1_score;  ///< cheap, higher is better
  std::function<double(torch::nn::Module&)> evaluate;      ///< the metric the drop is allowed in
};

struct AmpOptions {
  TORCH_ARG(std::vector<Candidate>, candidates);
  /// Allowed absolute drop of `evaluate` below FP32's; ≥ 0.
  TORCH_ARG(double, allowed_drop) = 1.0;
  /// Where phase-1 and phase-2 scores are cached ("" = not cached).
  TORCH_ARG(std::string, cache_file);

 public:
  void validate() const;
};

struct AmpPoint {
  std::string group;  ///< the group flipped at this step ("" for the baseline)
  Candidate candidate;
  double relative_bitops = 1.0;  ///< BitOps / the baseline's
  double score = 0.0;
  bool pareto_optimal = false;   ///< no other point has fewer (or equal) BitOps and a higher score
};

struct AmpResult {
  std::vector<Candidate> candidates;  ///< most expensive first: [0] is the baseline
  std::vector<QuantizerGroup> groups;
  std::vector<MacBlock> macs;
  double fp32 = 0.0;
  double phase1_baseline = 0.0;
  std::vector<std::vector<double>> phase1;  ///< [group][candidate]; NaN for the baseline column
  std::vector<AmpPoint> points;             ///< phase 2: [0] the baseline, BitOps falling
  std::size_t chosen = 0;                   ///< index into points
  bool met = true;                          ///< whether the chosen point is within the allowed drop
  std::vector<Candidate> chosen_config;     ///< per group
  double allowed_drop = 0.0;
  int64_t evaluations = 0;
  double seconds = 0.0;

  /// The chosen configuration as one override per quantizer (exact-name patterns).
  std::vector<sim::BitwidthOverride> overrides(const sim::QuantSim& sim) const;
  nlohmann::json to_json(const sim::QuantSim& sim) const;
};

AmpResult choose_mixed_precision(sim::QuantSim& sim, const AmpCallbacks& callbacks, const AmpOptions& options);

/// ECMAScript pattern matching exactly `name` (for BitwidthOverride).
std::string exact_pattern(const std::string& name);

/// Bitwidth overrides from a JSON file mixed precision wrote ({"bitwidth_overrides":
/// [{"pattern", "bitwidth"}, ...]}); ConfigError naming the file and the field.
std::vector<sim::BitwidthOverride> load_bitwidth_overrides(const std::string& path);

}  // namespace qsim::ptq
