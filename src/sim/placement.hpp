#pragma once

// Internals of QuantSim: finding the quantizer slots of a model and applying the
// config rules of semantics §7.2 to them.

#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "qsim/nn/quantizable.hpp"
#include "qsim/sim/model_topology.hpp"
#include "qsim/sim/quantizer_slot.hpp"
#include "qsim/sim/quantsim_config.hpp"
#include "qsim/sim/sim_options.hpp"

namespace qsim::sim::detail {

struct Block {
  std::string path;
  nn::Quantizable* quantizable = nullptr;
  torch::nn::Module* module = nullptr;
};

/// Every qsim block under `model` (named_modules order) and its slots.
void collect_slots(torch::nn::Module& model, std::vector<Block>& blocks, std::vector<QuantizerSlot>& slots);

/// The parameter tensor a parameter slot quantizes (undefined when the block has none).
torch::Tensor slot_parameter(const Block& block, const std::string& param);

/// Sets each slot's `active` flag and node options (bitwidth, symmetry, channel
/// axis) from the config rules; every node is left disabled (FP32).
void place_quantizers(const std::vector<Block>& blocks, std::vector<QuantizerSlot>& slots,
                      const QuantSimConfig& config, const SimOptions& options, const ModelTopology& topology);

}  // namespace qsim::sim::detail
