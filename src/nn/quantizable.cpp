#include "qsim/nn/quantizable.hpp"

#include "detail/check.hpp"

namespace qsim::nn {

std::size_t Quantizable::num_inputs() const {
  return input_quantizers ? input_quantizers->size() : 0;
}

quant::QuantizerNode Quantizable::input_quantizer(std::size_t index) const {
  QSIM_CHECK(index < num_inputs(), ValueError, "{}: input quantizer {} out of range, block has {} inputs",
             op_type(), index, num_inputs());
  return quant::QuantizerNode(input_quantizers->ptr<quant::QuantizerNodeImpl>(index));
}

void Quantizable::register_activation_quantizers(torch::nn::Module& self, std::size_t num_inputs) {
  param_quantizers_.clear();
  torch::nn::ModuleList inputs;
  for (std::size_t i = 0; i < num_inputs; ++i) inputs->push_back(quant::QuantizerNode());
  input_quantizers = self.register_module("input_quantizers", inputs);
  output_quantizer = self.register_module("output_quantizer", quant::QuantizerNode());
}

quant::QuantizerNode Quantizable::register_param_quantizer(torch::nn::Module& self,
                                                           const std::string& param) {
  auto node = self.register_module(param + "_quantizer", quant::QuantizerNode());
  param_quantizers_.emplace_back(param, node);
  return node;
}

namespace {

// Through the list's own storage (no shared_ptr copy); the slot type is fixed by
// register_activation_quantizers, and Module is a virtual base, hence the dynamic cast.
quant::QuantizerNodeImpl& input_node(const torch::nn::ModuleList& inputs, std::size_t index) {
  return *inputs->begin()[static_cast<std::ptrdiff_t>(index)]->as<quant::QuantizerNodeImpl>();
}

}  // namespace

torch::Tensor Quantizable::quantize_input(std::size_t index, const torch::Tensor& x) {
  return input_node(input_quantizers, index).forward(x);
}

torch::Tensor Quantizable::quantize_input_owned(std::size_t index, torch::Tensor x) {
  return input_node(input_quantizers, index).forward_owned(std::move(x));
}

}  // namespace qsim::nn
