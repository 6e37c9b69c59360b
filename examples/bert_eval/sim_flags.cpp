#include "sim_flags.hpp"

#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/models/bert/quantizer_patterns.hpp"
#include "qsim/ptq/mixed_precision.hpp"

namespace qsim::examples {

std::string expand_pattern(const std::string& pattern) {
  return pattern == "ffn_residual" ? std::string(models::bert::kFfnResidualQuantizers) : pattern;
}

void SimFlags::add_to(CLI::App& app) {
  app.add_option("--bitwidth_override", bitwidth_overrides,
                 "PATTERN=BITS: quantizers whose name matches PATTERN (regex, or ffn_residual) get BITS (mixed "
                 "precision; repeatable)");
  app.add_option("--peg", peg,
                 "PATTERN=GROUPS: per-embedding-group quantization of the matching activations (regex, or "
                 "ffn_residual; repeatable)");
  app.add_option("--peg_permute", peg_permute, "PEG: sort channels by range before grouping (default true)");
  app.add_option("--mixed_precision", mixed_precision,
                 "FILE: per-quantizer bitwidths chosen by --amp_candidates (its analysis/mixed_precision.json)");
}

void SimFlags::apply(sim::SimOptions& options) const {
  std::vector<sim::BitwidthOverride> overrides = options.bitwidth_overrides();
  if (!mixed_precision.empty()) {
    for (const sim::BitwidthOverride& rule : ptq::load_bitwidth_overrides(mixed_precision)) overrides.push_back(rule);
  }
  for (const std::string& text : bitwidth_overrides) {
    sim::BitwidthOverride rule = sim::parse_bitwidth_override(text);
    rule.pattern = expand_pattern(rule.pattern);
    QSIM_CHECK(rule.bitwidth >= 4 && rule.bitwidth <= 32, ConfigError,
               "--bitwidth_override '{}': bits must be in [4, 32], got {}", text, rule.bitwidth);
    overrides.push_back(rule);
  }
  std::vector<sim::EmbeddingGroupsRule> groups = options.embedding_groups();
  for (const std::string& text : peg) {
    sim::EmbeddingGroupsRule rule = sim::parse_embedding_groups_rule(text);
    rule.pattern = expand_pattern(rule.pattern);
    rule.permute = peg_permute;
    QSIM_CHECK(rule.groups >= 1, ConfigError, "--peg '{}': groups must be >= 1, got {}", text, rule.groups);
    groups.push_back(rule);
  }
  options.bitwidth_overrides(std::move(overrides)).embedding_groups(std::move(groups));
}

nlohmann::json SimFlags::to_json() const {
  return {{"bitwidth_override", bitwidth_overrides},
          {"peg", peg},
          {"peg_permute", peg_permute},
          {"mixed_precision", mixed_precision}};
}

}  // namespace qsim::examples
