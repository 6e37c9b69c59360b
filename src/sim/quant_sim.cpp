#include "qsim/sim/quant_sim.hpp"

#include <torch/torch.h>

#include "detail/check.hpp"
#include "placement.hpp"
#include "qsim/log.hpp"

namespace qsim::sim {

std::string_view to_string(SlotKind kind) {
  switch (kind) {
    case SlotKind::input: return "input";
    case SlotKind::output: return "output";
    case SlotKind::param: return "param";
  }
  return "unknown";
}

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::fp32: return "fp32";
    case Mode::quantized: return "quantized";
    case Mode::range_learning: return "range_learning";
  }
  return "unknown";
}

QuantSim::QuantSim(std::shared_ptr<torch::nn::Module> model, QuantSimConfig config, SimOptions options,
                   std::optional<ModelTopology> topology)
    : model_(std::move(model)), config_(std::move(config)), options_(options) {
  QSIM_CHECK(model_ != nullptr, ConfigError, "quantsim: model is null");
  options_.validate();
  topology_ = topology ? std::move(*topology) : infer_topology(*model_);
  std::vector<detail::Block> blocks;
  detail::collect_slots(*model_, blocks, slots_);
  QSIM_CHECK(!blocks.empty(), ConfigError, "quantsim: model '{}' contains no qsim::nn block", model_->name());
  detail::place_quantizers(blocks, slots_, config_, options_, topology_);
  for (std::size_t i = 0; i < slots_.size(); ++i) index_[slots_[i].name] = i;
  for (QuantizerSlot& s : slots_) s.node->set_cache_output(s.kind == SlotKind::param && options_.cache_quantized_weights());
  if (options_.mask_add_override() == MaskAddOverride::aimet_static_16bit_clamp) {
    for (const std::string& block : topology_.mask_add_blocks) {
      for (QuantizerSlot& s : slots_) {
        if (s.block == block) s.node->options.bitwidth(16);
      }
    }
  }
  std::size_t active = 0;
  for (const QuantizerSlot& s : slots_) active += s.active ? 1 : 0;
  logger()->info("quantsim: {} blocks, {} quantizer slots, {} placed (scheme {})", blocks.size(), slots_.size(),
                 active, to_string(options_.scheme()));
}

const QuantizerSlot& QuantSim::slot(const std::string& name) const {
  const auto it = index_.find(name);
  QSIM_CHECK(it != index_.end(), ConfigError, "quantsim: no quantizer named '{}'", name);
  return slots_[it->second];
}

QuantizerSlot& QuantSim::mutable_slot(const std::string& name) {
  return slots_[static_cast<std::size_t>(&slot(name) - slots_.data())];
}

std::vector<const QuantizerSlot*> QuantSim::active_quantizers() const {
  std::vector<const QuantizerSlot*> out;
  for (const QuantizerSlot& s : slots_) {
    if (s.active) out.push_back(&s);
  }
  return out;
}

void QuantSim::set_enabled(const std::string& name, bool enabled) {
  mutable_slot(name).active = enabled;
  apply_mode();
}

void QuantSim::set_encodings(const std::string& name, const std::vector<quant::Encoding>& encodings, bool freeze) {
  QuantizerSlot& s = mutable_slot(name);
  s.node->switch_to_static_grid();
  s.node->set_encodings(encodings);
  s.frozen = freeze;
  s.active = true;
  apply_mode();
}

void QuantSim::set_mode(Mode mode) {
  if (mode != Mode::fp32) {
    QSIM_CHECK(calibrated_, ConfigError,
               "quantsim: mode '{}' needs encodings: call compute_encodings or load_encodings first", to_string(mode));
  }
  mode_ = mode;
  if (mode == Mode::range_learning) enter_learned_grid();
  apply_mode();
}

void QuantSim::enter_learned_grid() {
  for (QuantizerSlot& s : slots_) {
    if (!s.active || s.frozen || s.node->options.grid() == quant::Grid::learned_grid) continue;
    s.node->switch_to_learned_grid();
  }
}

void QuantSim::apply_mode() {
  for (QuantizerSlot& s : slots_) {
    s.node->drop_cached_output();  // a mode change frees the quantized weight copies
    const bool on = mode_ != Mode::fp32 && s.active;
    s.node->set_enabled(on);
    if (s.node->options.grid() == quant::Grid::learned_grid) {
      const bool train = on && mode_ == Mode::range_learning;
      s.node->encoding_min.set_requires_grad(train);
      s.node->encoding_max.set_requires_grad(train);
    }
  }
}

std::vector<torch::Tensor> QuantSim::range_parameters() const {
  std::vector<torch::Tensor> out;
  for (const QuantizerSlot& s : slots_) {
    if (s.active && s.node->options.grid() == quant::Grid::learned_grid) {
      out.push_back(s.node->encoding_min);
      out.push_back(s.node->encoding_max);
    }
  }
  return out;
}

void QuantSim::finish_loading_or_calibration() {
  calibrated_ = true;
  set_mode(is_range_learning(options_.scheme()) ? Mode::range_learning : Mode::quantized);
}

}  // namespace qsim::sim
