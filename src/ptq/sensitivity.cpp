#include "qsim/ptq/sensitivity.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "detail/check.hpp"
#include "qsim/log.hpp"

namespace qsim::ptq {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNotRun = std::numeric_limits<double>::quiet_NaN();

// The active set calibration left, and a way to score any subset of it.
class Sweeper {
 public:
  Sweeper(sim::QuantSim& sim, const SensitivityCallbacks& callbacks) : sim_(sim), callbacks_(callbacks) {
    for (const sim::QuantizerSlot& s : sim.quantizers()) {
      if (s.active) calibrated_.push_back(s.name);
    }
  }

  /// The score with exactly the calibrated quantizers for which `on` holds enabled.
  double score_with(const std::function<bool(const sim::QuantizerSlot&)>& on) {
    for (const std::string& name : calibrated_) sim_.set_enabled(name, on(sim_.slot(name)));
    sim_.set_mode(sim::Mode::quantized);
    const double score = callbacks_.evaluate(*sim_.model());
    ++evaluations_;
    return score;
  }
  double score_fp32() {
    sim_.set_mode(sim::Mode::fp32);
    const double score = callbacks_.evaluate(*sim_.model());
    ++evaluations_;
    return score;
  }
  void restore() {
    for (const std::string& name : calibrated_) sim_.set_enabled(name, true);
    sim_.set_mode(sim::Mode::quantized);
  }
  int64_t evaluations() const { return evaluations_; }

 private:
  sim::QuantSim& sim_;
  const SensitivityCallbacks& callbacks_;
  std::vector<std::string> calibrated_;
  int64_t evaluations_ = 0;
};

std::vector<GroupSensitivity> sweep(Sweeper& sweeper, const std::vector<QuantizerGroup>& groups,
                                    const SensitivityOptions& options, const char* what) {
  std::vector<GroupSensitivity> out;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const std::unordered_set<std::string> members(groups[i].quantizers.begin(), groups[i].quantizers.end());
    const auto in_group = [&](const sim::QuantizerSlot& s) { return members.count(s.name) > 0; };
    GroupSensitivity g{groups[i].name, groups[i].quantizers, kNotRun, kNotRun};
    if (options.enable_one()) g.enabled_only = sweeper.score_with(in_group);
    if (options.disable_one()) g.disabled = sweeper.score_with([&](const auto& s) { return !in_group(s); });
    logger()->info("sensitivity: {} {}/{} {}: enabled alone {:.4g}, disabled {:.4g}", what, i + 1, groups.size(),
                   g.name, g.enabled_only, g.disabled);
    out.push_back(std::move(g));
  }
  return out;
}

nlohmann::json number(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

nlohmann::json groups_json(const std::vector<GroupSensitivity>& groups) {
  nlohmann::json out = nlohmann::json::array();
  for (const GroupSensitivity& g : groups) {
    out.push_back({{"name", g.name},
                   {"quantizers", g.quantizers},
                   {"enabled_only", number(g.enabled_only)},
                   {"disabled", number(g.disabled)}});
  }
  return out;
}

}  // namespace

std::vector<GroupSensitivity> SensitivityResult::most_sensitive(std::size_t count) const {
  std::vector<GroupSensitivity> all = blocks;
  all.insert(all.end(), activations.begin(), activations.end());
  const auto gain = [&](const GroupSensitivity& g) {
    return std::isnan(g.disabled) ? -std::numeric_limits<double>::infinity() : g.disabled - quantized;
  };
  std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) { return gain(a) > gain(b); });
  if (all.size() > count) all.resize(count);
  return all;
}

nlohmann::json SensitivityResult::to_json() const {
  return {{"fp32", fp32},
          {"quantized", quantized},
          {"weights_only", weights_only},
          {"activations_only", activations_only},
          {"blocks", groups_json(blocks)},
          {"activation_quantizers", groups_json(activations)},
          {"seconds", seconds}};
}

SensitivityResult analyze_sensitivity(sim::QuantSim& sim, const SensitivityCallbacks& callbacks,
                                      const SensitivityOptions& options) {
  QSIM_CHECK(static_cast<bool>(callbacks.calibrate) && static_cast<bool>(callbacks.evaluate), ConfigError,
             "sensitivity analysis needs both callbacks: calibrate (the calibration forward pass) and evaluate");
  const auto start = Clock::now();
  sim.compute_encodings(callbacks.calibrate);
  // Groups from the active set calibration left (the sweeps change it), in forward order.
  const std::vector<std::string> order = forward_order(sim, callbacks.calibrate);
  std::vector<QuantizerGroup> blocks = block_groups(sim);
  std::vector<QuantizerGroup> activations =
      options.single_activations() ? activation_quantizer_groups(sim) : std::vector<QuantizerGroup>{};
  sort_by_forward_order(blocks, sim, order);
  sort_by_forward_order(activations, sim, order);
  Sweeper sweeper(sim, callbacks);
  SensitivityResult r;
  r.fp32 = sweeper.score_fp32();
  r.quantized = sweeper.score_with([](const auto&) { return true; });
  r.weights_only = sweeper.score_with([](const auto& s) { return s.kind == sim::SlotKind::param; });
  r.activations_only = sweeper.score_with([](const auto& s) { return s.kind != sim::SlotKind::param; });
  logger()->info("sensitivity: FP32 {:.4g}, quantized {:.4g}, weights only {:.4g}, activations only {:.4g}", r.fp32,
                 r.quantized, r.weights_only, r.activations_only);
  if (options.enable_one() || options.disable_one()) {
    r.blocks = sweep(sweeper, blocks, options, "block");
    r.activations = sweep(sweeper, activations, options, "activation");
  }
  sweeper.restore();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  logger()->info("sensitivity: {} evaluations in {:.0f} s", sweeper.evaluations(), r.seconds);
  return r;
}

}  // namespace qsim::ptq
