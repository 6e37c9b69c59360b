// QuantSim::compute_encodings (semantics §4.2) and the §7.4 mask override.

#include <cmath>
#include <memory>

#include <fmt/ranges.h>
#include <torch/torch.h>

#include "detail/check.hpp"
#include "placement.hpp"
#include "qsim/analysis/encoding_analyzer.hpp"
#include "qsim/analysis/per_channel_analyzer.hpp"
#include "qsim/log.hpp"
#include "qsim/sim/quant_sim.hpp"

namespace qsim::sim {
namespace {

bool is_mask_add(const ModelTopology& topology, const std::string& block) {
  for (const std::string& b : topology.mask_add_blocks) {
    if (b == block) return true;
  }
  return false;
}

// Parameter encodings from the full tensor in one batch; the percentile scheme
// uses P = 100 for weights (§9.17).
std::vector<quant::Encoding> param_encodings(const torch::Tensor& tensor, const quant::QuantizerOptions& o,
                                             analysis::AnalyzerKind kind) {
  const torch::Tensor data = tensor.detach();
  if (o.channel_axis()) {
    analysis::PerChannelAnalyzer analyzer(kind, *o.channel_axis());
    analyzer.update_stats(data);
    return analyzer.compute_encodings(o.bitwidth(), o.symmetry());
  }
  auto analyzer = analysis::make_analyzer(kind);
  analyzer->update_stats(data);
  return {analyzer->compute_encoding(o.bitwidth(), o.symmetry())};
}

// recompute_grid_params (AC/quantsim.py, §7.4): re-grids an encoding at `bitwidth`
// with Python's round (ties to even).
quant::Encoding recompute_grid(const quant::Encoding& e, int bitwidth, bool symmetric) {
  const double lo = std::min(0.0, e.min);
  const double hi = std::max({0.0, e.max, lo + 0.01});
  const double steps = std::pow(2.0, bitwidth) - 1.0;
  quant::Encoding out;
  out.bitwidth = bitwidth;
  if (symmetric) {
    const double a = std::max(std::abs(lo), std::abs(hi));
    const double half = std::floor(steps / 2.0);
    out.delta = a / half;
    out.offset = -std::ceil(steps / 2.0);
    out.min = out.offset * out.delta;
    out.max = half * out.delta;
  } else {
    out.delta = (hi - lo) / steps;
    out.offset = std::nearbyint(lo / out.delta);
    out.min = out.delta * out.offset;
    out.max = out.min + steps * out.delta;
  }
  return out;
}

}  // namespace

void QuantSim::compute_encodings(const std::function<void(torch::nn::Module&)>& run) {
  QSIM_CHECK(static_cast<bool>(run), ConfigError, "quantsim: compute_encodings needs a callback");
  std::vector<detail::Block> blocks;
  std::vector<QuantizerSlot> unused_slots;
  detail::collect_slots(*model_, blocks, unused_slots);
  std::unordered_map<std::string, const detail::Block*> block_of;
  for (const detail::Block& b : blocks) block_of[b.path] = &b;

  const analysis::AnalyzerKind scheme_kind = activation_analyzer(options_.scheme());
  const bool override_mask = options_.mask_add_override() == MaskAddOverride::aimet_static_16bit_clamp;
  const analysis::AnalyzerKind param_kind =
      options_.scheme() == QuantScheme::percentile ? analysis::AnalyzerKind::percentile : scheme_kind;

  // 1. Reset: every unfrozen quantizer back to a static grid without encoding.
  for (QuantizerSlot& s : slots_) {
    if (s.frozen) continue;
    s.node->switch_to_static_grid();
    s.node->clear_encoding();
  }
  // 2. Parameters: encoded once from the full tensor, so the forward uses them.
  for (QuantizerSlot& s : slots_) {
    if (s.kind != SlotKind::param || !s.active || s.frozen) continue;
    const torch::Tensor tensor = detail::slot_parameter(*block_of.at(s.block), s.param);
    const bool mask = override_mask && is_mask_add(topology_, s.block);
    s.node->set_encodings(param_encodings(tensor, s.node->options, mask ? analysis::AnalyzerKind::tf : param_kind));
  }
  // 3. Activations: one analyzer per active input/output quantizer, fed by its observer.
  std::vector<std::unique_ptr<analysis::EncodingAnalyzer>> analyzers(slots_.size());
  const analysis::AnalyzerOptions analyzer_options = analysis::AnalyzerOptions().percentile(options_.percentile());
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    QuantizerSlot& s = slots_[i];
    if (s.kind == SlotKind::param || !s.active || s.frozen) continue;
    const bool mask = override_mask && is_mask_add(topology_, s.block);
    analyzers[i] = analysis::make_analyzer(mask ? analysis::AnalyzerKind::tf : scheme_kind, analyzer_options);
    analysis::EncodingAnalyzer* analyzer = analyzers[i].get();
    const CalibrationObserver* extra = calibration_observer_ ? &calibration_observer_ : nullptr;
    const QuantizerSlot* slot = &s;
    s.node->set_observer([analyzer, extra, slot](const torch::Tensor& x) {
      analyzer->update_stats(x.detach());
      if (extra != nullptr) (*extra)(*slot, x);
    });
  }
  for (QuantizerSlot& s : slots_) s.node->set_enabled(s.active);
  mode_ = Mode::quantized;

  const bool was_training = model_->is_training();
  model_->eval();
  try {
    torch::NoGradGuard no_grad;
    run(*model_);
  } catch (...) {
    for (QuantizerSlot& s : slots_) s.node->set_observer(nullptr);
    model_->train(was_training);
    throw;
  }
  model_->train(was_training);

  // 4. Encodings; quantizers without data are switched off.
  std::vector<std::string> unused;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    QuantizerSlot& s = slots_[i];
    s.node->set_observer(nullptr);
    if (!analyzers[i]) continue;
    if (!analyzers[i]->has_stats()) {
      s.active = false;
      unused.push_back(s.name);
      continue;
    }
    s.node->set_encoding(analyzers[i]->compute_encoding(s.node->options.bitwidth(), s.node->options.symmetry()));
  }
  if (!unused.empty()) {
    logger()->warn("quantsim: {} quantizers saw no calibration data and are disabled: {}", unused.size(),
                   fmt::join(unused, ", "));
  }
  if (override_mask) apply_mask_add_override();
  finish_loading_or_calibration();
}

// §7.4: the mask_add output encoding gets min ← max(min, −6), is re-gridded at the
// output bitwidth and frozen. The encoding's bitwidth (8) is what the kernel uses,
// so the node is set to it (AIMET keeps the quantizer at 16 and the encoding at 8).
void QuantSim::apply_mask_add_override() {
  constexpr double kMaskOverrideValue = -6.0;
  for (QuantizerSlot& s : slots_) {
    if (s.kind != SlotKind::output || !s.active || !is_mask_add(topology_, s.block)) continue;
    quant::Encoding e = s.node->encoding();
    e.min = std::max(e.min, kMaskOverrideValue);
    const bool symmetric = s.node->options.symmetry() != quant::Symmetry::asymmetric;
    const quant::Encoding regrid = recompute_grid(e, options_.output_bitwidth(), symmetric);
    s.node->options.bitwidth(options_.output_bitwidth());
    s.node->set_encoding(regrid);
    s.frozen = true;
    logger()->debug("quantsim: mask override on '{}': [{}, {}]", s.name, regrid.min, regrid.max);
  }
}

}  // namespace qsim::sim
