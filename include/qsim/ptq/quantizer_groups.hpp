#pragma once

// Quantizer groups: the units that sensitivity sweeps and mixed precision switch
// together.
//  * block groups (AIMET QuantAnalyzer's unit): a block's active parameter, input and
//    output quantizers;
//  * mixed-precision groups (AIMET AMP's unit): a producer's output quantizer with the
//    input and parameter quantizers of the blocks that read that tensor, so that an
//    activation and the weights it is multiplied with change bitwidth together.
// Both list only active, unfrozen quantizers, in the simulation's slot order (module
// registration order); sort_by_forward_order puts them in the order they run.

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include "qsim/sim/model_topology.hpp"
#include "qsim/sim/quant_sim.hpp"

namespace qsim::ptq {

struct QuantizerGroup {
  std::string name;                     ///< the block (block groups) or producer (mixed precision) it is named after
  std::vector<std::string> quantizers;  ///< slot names, in slot order
};

nlohmann::json to_json(const std::vector<QuantizerGroup>& groups);

/// One group per block with an active, unfrozen quantizer.
std::vector<QuantizerGroup> block_groups(const sim::QuantSim& sim);

/// One group per active, unfrozen activation (input or output) quantizer.
std::vector<QuantizerGroup> activation_quantizer_groups(const sim::QuantSim& sim);

/// Producer → consumer edges between blocks, views and transposes looked through:
/// the simulation's topology edges, its functional ops (producer → consumer), and
/// for qsim's BERT the edges AIMET's connected graph sees through reshapes
/// (query/key → matmul_1, value → matmul_2, matmul_2 → attention.output.dense,
/// the encoder's last LayerNorm → pooler.dense).
std::vector<sim::Edge> dataflow_edges(const sim::QuantSim& sim);

/// Mixed-precision groups over `edges` (default: dataflow_edges(sim)). Each block P
/// whose output quantizer is active gives the group named P: P's output quantizer,
/// and for every consumer C of P the active input and parameter quantizers of C
/// (a consumer with several producers joins the first one in slot order that has
/// an active output). Quantizers left over (a model input's embedding table, say)
/// join their own block's group.
std::vector<QuantizerGroup> mixed_precision_groups(const sim::QuantSim& sim);
std::vector<QuantizerGroup> mixed_precision_groups(const sim::QuantSim& sim, const std::vector<sim::Edge>& edges);

/// Blocks in the order one call of `forward_pass` first reaches one of their
/// quantizers (on or off; run in the sim's current mode, no grad).
std::vector<std::string> forward_order(const sim::QuantSim& sim, const std::function<void(torch::nn::Module&)>& forward_pass);

/// Orders each group's members by their block's place in `order` (then slot order),
/// and the groups by their first member; blocks not in `order` go last.
void sort_by_forward_order(std::vector<QuantizerGroup>& groups, const sim::QuantSim& sim,
                           const std::vector<std::string>& order);

}  // namespace qsim::ptq
