#pragma once

// BitOps, the cost AIMET's mixed precision trades accuracy against: Σ over the
// multiply-accumulate blocks of MACs × (bits of one operand) × (bits of the other).
// Linear blocks multiply their input by their weight; the attention products
// (MatMul blocks, which AIMET does not count) multiply two activations. An operand
// is on the grid of its own input quantizer when that is active, else of the
// producer's output quantizer (dataflow_edges); an operand on no grid counts 32 bits.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include "qsim/sim/quant_sim.hpp"

namespace qsim::ptq {

struct MacBlock {
  std::string block;
  std::string op_type;                ///< "Gemm" or "MatMul"
  int64_t macs = 0;                   ///< over the whole pass it was counted on
  std::vector<std::string> operands;  ///< the two operands' quantizer names ("" = float)
};

nlohmann::json to_json(const std::vector<MacBlock>& blocks);

/// The Linear and MatMul blocks of `sim`'s model with their MACs over one call of
/// `forward_pass` (run in the sim's current mode, no grad) and their operands' quantizers.
std::vector<MacBlock> count_macs(const sim::QuantSim& sim, const std::function<void(torch::nn::Module&)>& forward_pass);

/// Σ macs × bits(operand 0) × bits(operand 1), with `bits` giving a quantizer's
/// bitwidth ("" → 32).
double bitops(const std::vector<MacBlock>& blocks, const std::function<int(const std::string&)>& bits);

/// The same with the sim's bitwidths now (an inactive quantizer counts 32).
double bitops(const std::vector<MacBlock>& blocks, const sim::QuantSim& sim);

}  // namespace qsim::ptq
