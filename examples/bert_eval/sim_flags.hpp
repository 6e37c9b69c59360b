#pragma once

// The simulation flags bert_eval and bert_demo share: mixed precision and
// per-embedding-group activations by quantizer-name pattern. PATTERN is an
// ECMAScript regex searched in each quantizer's name, or the keyword
// `ffn_residual` (models::bert::kFfnResidualQuantizers: each layer's FFN output,
// its dropout and the residual sum, as in Bondarenko et al. 2021).
//   --bitwidth_override PATTERN=BITS   (repeatable; e.g. ffn_residual=16)
//   --peg PATTERN=GROUPS               (repeatable; e.g. ffn_residual=6)
//   --peg_permute true|false           (range-based permutation, default true)
//   --mixed_precision FILE             the per-quantizer bitwidths mixed precision chose
//                                      (<output_dir>/analysis/mixed_precision.json)

#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "qsim/sim/sim_options.hpp"

namespace qsim::examples {

struct SimFlags {
  std::vector<std::string> bitwidth_overrides;
  std::vector<std::string> peg;
  bool peg_permute = true;
  std::string mixed_precision;  ///< a mixed_precision.json (ptq::load_bitwidth_overrides)

  void add_to(CLI::App& app);
  bool empty() const { return bitwidth_overrides.empty() && peg.empty() && mixed_precision.empty(); }
  /// Adds the rules to `options`; ConfigError naming the flag for bad values.
  void apply(sim::SimOptions& options) const;
  /// The flags as given, for results.json.
  nlohmann::json to_json() const;
};

/// The keyword ffn_residual as its regex; any other pattern unchanged.
std::string expand_pattern(const std::string& pattern);

}  // namespace qsim::examples
