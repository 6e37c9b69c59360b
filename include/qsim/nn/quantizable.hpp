#pragma once

// The quantizer slots every nn block exposes, and the op type a config matches on.
//
// Slot naming (the names QuantSim, the config matcher and the AIMET encodings JSON
// use; `named_modules()` reports them under the block's dotted path):
//   <block>.input_quantizers.<i>  one QuantizerNode per tensor input, i = the AIMET
//                                 "input" index (a torch::nn::ModuleList)
//   <block>.output_quantizer      the single output (AIMET "output" index 0)
//   <block>.weight_quantizer      one per parameter, named <param>_quantizer, so the
//   <block>.bias_quantizer        AIMET param_encodings key is "<block>.<param>"
// Every slot exists from construction and is disabled, so a block behaves as the
// plain op until something (QuantSim) enables its quantizers. A disabled quantizer
// returns its input tensor itself: a block with every slot off costs a few function
// calls over the plain ATen op, never a copy.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include "qsim/quant/quantizer_node.hpp"

namespace qsim::nn {

/// A (slot name, quantizer) pair; the slot name is relative to the block.
using NamedQuantizer = std::pair<std::string, quant::QuantizerNode>;

/// Interface shared by every quantizable block (mixed into the Impl classes next to
/// torch::nn::Cloneable). QuantSim finds blocks by walking `named_modules()` and
/// `dynamic_cast`ing each module to `Quantizable`.
///
/// Example:
///   for (const auto& item : model->named_modules())
///     if (auto* block = dynamic_cast<qsim::nn::Quantizable*>(item.value().get()))
///       block->output_quantizer->set_enabled(true);
class Quantizable {
 public:
  virtual ~Quantizable() = default;

  /// The ONNX op type name a quantsim config's "op_type" section matches, as AIMET's
  /// map_torch_types_to_onnx names it (Gemm, LayerNorm, GELU, Softmax, Add, ...).
  virtual std::string_view op_type() const = 0;

  /// How many tensor inputs the block takes (= size of `input_quantizers`).
  std::size_t num_inputs() const;
  /// The quantizer of input `index`; throws qsim::ValueError when out of range.
  quant::QuantizerNode input_quantizer(std::size_t index) const;
  /// Parameter quantizers as (parameter name, quantizer), in registration order:
  /// "weight" then "bias" where the block has them.
  const std::vector<NamedQuantizer>& param_quantizers() const { return param_quantizers_; }

  /// One QuantizerNode per input, registered as "input_quantizers".
  torch::nn::ModuleList input_quantizers{nullptr};
  /// The output quantizer, registered as "output_quantizer".
  quant::QuantizerNode output_quantizer{nullptr};

 protected:
  /// Creates and registers the activation slots on `self`. Call it first in reset():
  /// it also forgets the parameter slots of a previous reset().
  void register_activation_quantizers(torch::nn::Module& self, std::size_t num_inputs);
  /// Creates and registers "<param>_quantizer" on `self` and returns it.
  quant::QuantizerNode register_param_quantizer(torch::nn::Module& self, const std::string& param);
  /// Quantizes input `index` (a no-op returning `x` while the slot is disabled).
  torch::Tensor quantize_input(std::size_t index, const torch::Tensor& x);
  /// Same for an input the caller hands over (may be quantized in place).
  torch::Tensor quantize_input_owned(std::size_t index, torch::Tensor x);
  /// Quantizes the block's own freshly computed result (in place when nothing else
  /// holds it, see QuantizerNodeImpl::forward_owned).
  torch::Tensor quantize_output(torch::Tensor y) { return output_quantizer->forward_owned(std::move(y)); }

 private:
  std::vector<NamedQuantizer> param_quantizers_;
};

}  // namespace qsim::nn
