#pragma once

// QuantSim: the library's entry point (AIMET's QuantizationSimModel). It walks a
// model built from qsim::nn blocks, enables and configures their quantizer slots
// from an AIMET quantsim config (quantization-semantics.md §7), calibrates them
// (§4.2), switches between FP32, quantized and range-learning modes on the same
// model object, and exports / imports AIMET encodings JSON (§4.3).
//
//   auto model = qsim::models::bert::BertForTask(config);
//   qsim::sim::QuantSim sim(model, qsim::sim::QuantSimConfig::aimet_default(),
//                           qsim::sim::SimOptions().scheme(QuantScheme::tf_range_learning));
//   sim.compute_encodings([&](torch::nn::Module&) { for (auto& b : calib) model(b.ids, b.types, b.mask); });
//   sim.export_encodings("model_torch.encodings");

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "qsim/quant/encoding.hpp"
#include "qsim/quant/quantizer_node.hpp"
#include "qsim/sim/model_topology.hpp"
#include "qsim/sim/quantizer_slot.hpp"
#include "qsim/sim/quantsim_config.hpp"
#include "qsim/sim/sim_options.hpp"

namespace qsim::sim {

enum class Mode {
  fp32,            ///< every quantizer off: the plain float model
  quantized,       ///< the active quantizers on; learned ranges (if any) not trainable
  range_learning,  ///< the active, unfrozen quantizers on the learned grid with trainable min/max (§5)
};

std::string_view to_string(Mode mode);

class QuantSim {
 public:
  /// Places quantizers per `config` (§7.2) and `options`; `topology` defaults to
  /// infer_topology(model). The model is left in FP32 mode until calibrated.
  /// Throws ConfigError for bad options or a model without any qsim block.
  QuantSim(std::shared_ptr<torch::nn::Module> model, QuantSimConfig config, SimOptions options = {},
           std::optional<ModelTopology> topology = std::nullopt);
  template <typename Impl>
  QuantSim(const torch::nn::ModuleHolder<Impl>& model, QuantSimConfig config, SimOptions options = {},
           std::optional<ModelTopology> topology = std::nullopt)
      : QuantSim(std::static_pointer_cast<torch::nn::Module>(model.ptr()), std::move(config), options,
                 std::move(topology)) {}

  /// Every quantizer slot of every block, in module-tree (registration) order.
  const std::vector<QuantizerSlot>& quantizers() const { return slots_; }
  /// The slot called `name` (its node's module path); ConfigError naming it if none.
  const QuantizerSlot& slot(const std::string& name) const;
  quant::QuantizerNode quantizer(const std::string& name) const { return slot(name).node; }
  /// The slots that are active (placed and, after calibration, saw data).
  std::vector<const QuantizerSlot*> active_quantizers() const;

  /// Turns one quantizer on or off for the quantized / range-learning modes.
  /// Enabling a quantizer without an encoding requires compute_encodings after.
  void set_enabled(const std::string& name, bool enabled);
  /// Overrides one quantizer's encoding(s) (bitwidth must match the slot) and, by
  /// default, freezes it so that compute_encodings and range learning leave it alone.
  void set_encodings(const std::string& name, const std::vector<quant::Encoding>& encodings, bool freeze = true);

  /// Freezes or unfreezes one quantizer's encoding (AIMET's freeze_encoding).
  void set_frozen(const std::string& name, bool frozen) { mutable_slot(name).frozen = frozen; }

  /// Calibration (§4.2): eval mode and no grad; parameter encodings from the full
  /// weights (so the forward runs with quantized weights); activation statistics
  /// collected through each active input/output quantizer's observer while `run`
  /// feeds the calibration batches; quantizers that saw no data are deactivated
  /// (one warning lists them); then quantized mode, or range-learning mode for the
  /// range-learning schemes (learned grid initialised from the encodings, §5.1).
  /// With embedding groups under an analyzer other than TF, `run` is called twice
  /// (the groups' layout needs all the data first) and must feed the same batches.
  void compute_encodings(const std::function<void(torch::nn::Module&)>& run);

  /// Step 2 of compute_encodings alone: every active, unfrozen parameter quantizer
  /// encoded from its full tensor with the scheme's analyzer (§4.2), for techniques
  /// that need the weight grids before activation calibration (ptq::adaround, which
  /// then freezes the ones it rounds). Activations are left as they are.
  void compute_param_encodings();

  /// Also called, during compute_encodings, with every tensor an activation
  /// quantizer's analyzer receives (to inspect or log calibration statistics).
  using CalibrationObserver = std::function<void(const QuantizerSlot&, const torch::Tensor&)>;
  void set_calibration_observer(CalibrationObserver observer) { calibration_observer_ = std::move(observer); }

  /// Data-parallel calibration: after `run`, compute_encodings hands `reduce` the
  /// min/max statistics of every activation quantizer this process saw (one entry
  /// per slot, float32; +inf/−inf where it saw nothing), and `reduce` combines them
  /// over the processes in place (elementwise min of `mins`, max of `maxs`, e.g.
  /// train::World's all-reduce). The encodings are then those of one process that
  /// saw every process's batches. Needs min/max statistics: TF schemes without
  /// embedding groups (ConfigError otherwise). Empty (the default): one process.
  using StatisticsReduce = std::function<void(at::Tensor& mins, at::Tensor& maxs)>;
  void set_statistics_reduce(StatisticsReduce reduce) { statistics_reduce_ = std::move(reduce); }

  void set_mode(Mode mode);
  Mode mode() const { return mode_; }
  /// Whether compute_encodings or load_encodings has run.
  bool calibrated() const { return calibrated_; }

  /// AIMET 1.x torch encodings (version 0.5.1): activation_encodings by block and
  /// input/output index, param_encodings by "<block>.<param>" (§4.3).
  nlohmann::json encodings_json() const;
  void export_encodings(const std::string& path) const;
  /// Loads encodings exported by AIMET or by export_encodings: every active
  /// quantizer named in the file gets its encoding; quantizers absent from the file
  /// are deactivated (AIMET's convention: exported = enabled). Throws ConfigError
  /// naming `origin` and the key for unknown blocks or slots, a bitwidth that does
  /// not match the slot, a per-channel count that does not match the tensor, or bad
  /// fields. Leaves the sim in quantized mode (range-learning mode for those schemes).
  void load_encodings(const nlohmann::json& encodings, const std::string& origin = "encodings");
  void load_encodings_file(const std::string& path);

  /// The learnable ranges (encoding_min/max) of the quantizers on the learned grid.
  std::vector<torch::Tensor> range_parameters() const;

  const std::shared_ptr<torch::nn::Module>& model() const { return model_; }
  const QuantSimConfig& config() const { return config_; }
  const SimOptions& options() const { return options_; }
  const ModelTopology& topology() const { return topology_; }

 private:
  QuantizerSlot& mutable_slot(const std::string& name);
  void encode_parameters();
  struct ActivationAnalyzers;
  void observe_for_pass_one(QuantizerSlot& slot, ActivationAnalyzers& analyzers, std::size_t index,
                            std::vector<float>* mins, std::vector<float>* maxs);
  void reduce_statistics(ActivationAnalyzers& analyzers, std::vector<float>& mins, std::vector<float>& maxs);
  void run_calibration(const std::function<void(torch::nn::Module&)>& run);
  void apply_mode();
  void enter_learned_grid();
  void apply_mask_add_override();
  void finish_loading_or_calibration();

  std::shared_ptr<torch::nn::Module> model_;
  QuantSimConfig config_;
  SimOptions options_;
  ModelTopology topology_;
  std::vector<QuantizerSlot> slots_;
  std::unordered_map<std::string, std::size_t> index_;
  Mode mode_ = Mode::fp32;
  bool calibrated_ = false;
  CalibrationObserver calibration_observer_;
  StatisticsReduce statistics_reduce_;
};

}  // namespace qsim::sim
