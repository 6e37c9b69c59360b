// QuantSim::compute_encodings (semantics §4.2) and the §7.4 mask override.

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include <fmt/ranges.h>
#include <torch/torch.h>

#include "detail/check.hpp"
#include "placement.hpp"
#include "qsim/analysis/embedding_group_analyzer.hpp"
#include "qsim/analysis/encoding_analyzer.hpp"
#include "qsim/analysis/per_channel_analyzer.hpp"
#include "qsim/log.hpp"
#include "qsim/sim/quant_sim.hpp"

#include <algorithm>
#include <limits>

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

// Removes every observer when calibration ends, however it ends: they point into
// analyzers that die with compute_encodings.
struct ObserverReset {
  std::vector<QuantizerSlot>& slots;
  ~ObserverReset() {
    for (QuantizerSlot& s : slots) s.node->set_observer(nullptr);
  }
};

}  // namespace

// The analyzers of one calibration: per slot, a tensor analyzer or an
// embedding-group analyzer (or neither).
struct QuantSim::ActivationAnalyzers {
  explicit ActivationAnalyzers(std::size_t slots) : tensors(slots), groups(slots) {}
  std::vector<std::unique_ptr<analysis::EncodingAnalyzer>> tensors;
  std::vector<std::unique_ptr<analysis::EmbeddingGroupAnalyzer>> groups;
};

// Pass 1 observer of slot i: its analyzer, then the user's calibration observer;
// with `mins`/`maxs` (data-parallel calibration), also the slot's running range.
void QuantSim::observe_for_pass_one(QuantizerSlot& s, ActivationAnalyzers& analyzers, std::size_t i,
                                    std::vector<float>* mins, std::vector<float>* maxs) {
  analysis::EncodingAnalyzer* tensor = analyzers.tensors[i].get();
  analysis::EmbeddingGroupAnalyzer* groups = analyzers.groups[i].get();
  const CalibrationObserver* extra = calibration_observer_ ? &calibration_observer_ : nullptr;
  const QuantizerSlot* slot = &s;
  s.node->set_observer([tensor, groups, extra, slot, i, mins, maxs](const torch::Tensor& x) {
    if (tensor != nullptr) tensor->update_stats(x.detach());
    if (groups != nullptr) groups->update_ranges(x);
    if (mins != nullptr && x.numel() > 0) {  // values already checked finite by update_stats
      const auto [lo, hi] = at::aminmax(x.detach().to(at::kFloat));
      (*mins)[i] = std::min((*mins)[i], lo.item<float>());
      (*maxs)[i] = std::max((*maxs)[i], hi.item<float>());
    }
    if (extra != nullptr) (*extra)(*slot, x);
  });
}

// Combines this process's min/max statistics with the others' (statistics_reduce_)
// and replaces every TF analyzer's statistics by the combined range: a TF encoding
// depends on the minimum and maximum alone, so it equals one process's over all data.
void QuantSim::reduce_statistics(ActivationAnalyzers& analyzers, std::vector<float>& mins, std::vector<float>& maxs) {
  at::Tensor lo = at::tensor(mins), hi = at::tensor(maxs);
  statistics_reduce_(lo, hi);
  QSIM_CHECK(lo.numel() == static_cast<int64_t>(mins.size()) && hi.numel() == lo.numel(), ValueError,
             "quantsim: the statistics reduce changed the number of entries ({} → {})", mins.size(), lo.numel());
  lo = lo.to(at::kFloat).contiguous();
  hi = hi.to(at::kFloat).contiguous();
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    analysis::EncodingAnalyzer* tensor = analyzers.tensors[i].get();
    if (tensor == nullptr) continue;
    tensor->reset();
    const float a = lo.data_ptr<float>()[i], b = hi.data_ptr<float>()[i];
    if (a <= b) tensor->update_stats(at::tensor({a, b}));
  }
}

// Runs the user's batches in eval mode without gradients; the training flag is
// restored if it throws.
void QuantSim::run_calibration(const std::function<void(torch::nn::Module&)>& run) {
  const bool was_training = model_->is_training();
  model_->eval();
  try {
    torch::NoGradGuard no_grad;
    run(*model_);
  } catch (...) {
    model_->train(was_training);
    throw;
  }
  model_->train(was_training);
}

void QuantSim::encode_parameters() {
  std::vector<detail::Block> blocks;
  std::vector<QuantizerSlot> unused_slots;
  detail::collect_slots(*model_, blocks, unused_slots);
  std::unordered_map<std::string, const detail::Block*> block_of;
  for (const detail::Block& b : blocks) block_of[b.path] = &b;
  const bool override_mask = options_.mask_add_override() == MaskAddOverride::aimet_static_16bit_clamp;
  const analysis::AnalyzerKind param_kind = options_.scheme() == QuantScheme::percentile
                                                ? analysis::AnalyzerKind::percentile
                                                : activation_analyzer(options_.scheme());
  for (QuantizerSlot& s : slots_) {
    if (s.kind != SlotKind::param || !s.active || s.frozen) continue;
    const torch::Tensor tensor = detail::slot_parameter(*block_of.at(s.block), s.param);
    const bool mask = override_mask && is_mask_add(topology_, s.block);
    s.node->switch_to_static_grid();
    s.node->set_encodings(param_encodings(tensor, s.node->options, mask ? analysis::AnalyzerKind::tf : param_kind));
  }
}

void QuantSim::compute_param_encodings() {
  encode_parameters();
  apply_mode();
}

void QuantSim::compute_encodings(const std::function<void(torch::nn::Module&)>& run) {
  QSIM_CHECK(static_cast<bool>(run), ConfigError, "quantsim: compute_encodings needs a callback");
  const analysis::AnalyzerKind scheme_kind = activation_analyzer(options_.scheme());
  const bool override_mask = options_.mask_add_override() == MaskAddOverride::aimet_static_16bit_clamp;

  // 1. Reset: every unfrozen quantizer back to a static grid without encoding.
  for (QuantizerSlot& s : slots_) {
    if (s.frozen) continue;
    s.node->switch_to_static_grid();
    s.node->clear_encoding();
  }
  // 2. Parameters: encoded once from the full tensor, so the forward uses them.
  encode_parameters();
  // 3. Activations: one analyzer per active input/output quantizer, fed by its observer.
  const analysis::AnalyzerOptions analyzer_options = analysis::AnalyzerOptions().percentile(options_.percentile());
  ActivationAnalyzers analyzers(slots_.size());
  const ObserverReset reset_observers{slots_};
  const bool reduce = static_cast<bool>(statistics_reduce_);
  std::vector<float> mins(slots_.size(), std::numeric_limits<float>::infinity());
  std::vector<float> maxs(slots_.size(), -std::numeric_limits<float>::infinity());
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    QuantizerSlot& s = slots_[i];
    if (s.kind == SlotKind::param || !s.active || s.frozen) continue;
    const bool mask = override_mask && is_mask_add(topology_, s.block);
    const analysis::AnalyzerKind kind = mask ? analysis::AnalyzerKind::tf : scheme_kind;
    QSIM_CHECK(!reduce || (kind == analysis::AnalyzerKind::tf && !s.node->uses_embedding_groups()), ConfigError,
               "quantsim: data-parallel calibration combines min/max statistics only (TF schemes, no embedding "
               "groups); '{}' uses {}", s.name, s.node->uses_embedding_groups() ? "embedding groups" : "another analyzer");
    if (s.node->uses_embedding_groups()) {
      analyzers.groups[i] = std::make_unique<analysis::EmbeddingGroupAnalyzer>(
          kind, s.node->options.embedding_groups(), s.permute_groups, analyzer_options);
    } else {
      analyzers.tensors[i] = analysis::make_analyzer(kind, analyzer_options);
    }
    observe_for_pass_one(s, analyzers, i, reduce ? &mins : nullptr, reduce ? &maxs : nullptr);
  }
  for (QuantizerSlot& s : slots_) s.node->set_enabled(s.active);
  mode_ = Mode::quantized;
  run_calibration(run);
  if (reduce) reduce_statistics(analyzers, mins, maxs);

  // 4. Embedding groups: the layout from pass 1; a second pass when the analyzer
  // needs each group's own statistics.
  for (QuantizerSlot& s : slots_) s.node->set_observer(nullptr);
  bool second_pass = false;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    analysis::EmbeddingGroupAnalyzer* groups = analyzers.groups[i].get();
    if (groups == nullptr || !groups->has_stats()) continue;
    slots_[i].node->set_group_of_channel(groups->group_of_channel());
    if (!groups->needs_group_pass()) continue;
    slots_[i].node->set_observer([groups](const torch::Tensor& x) { groups->update_group_stats(x); });
    second_pass = true;
  }
  if (second_pass) {
    logger()->info("quantsim: second calibration pass for the embedding groups' statistics");
    run_calibration(run);
  }

  // 5. Encodings; quantizers without data are switched off.
  std::vector<std::string> unused;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    QuantizerSlot& s = slots_[i];
    const quant::QuantizerOptions& o = s.node->options;
    if (analyzers.tensors[i] || analyzers.groups[i]) {
      const bool seen = analyzers.tensors[i] ? analyzers.tensors[i]->has_stats() : analyzers.groups[i]->has_stats();
      if (!seen) {
        s.active = false;
        unused.push_back(s.name);
      } else if (analyzers.tensors[i]) {
        s.node->set_encoding(analyzers.tensors[i]->compute_encoding(o.bitwidth(), o.symmetry()));
      } else {
        s.node->set_encodings(analyzers.groups[i]->compute_encodings(o.bitwidth(), o.symmetry()));
      }
    }
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
