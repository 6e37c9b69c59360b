#include "qsim/models/bert/bert_layer.hpp"

namespace qsim::models::bert {

BertIntermediateImpl::BertIntermediateImpl(const BertConfig& config_) : config(config_) { reset(); }

void BertIntermediateImpl::reset() {
  dense = register_module("dense", nn::Linear(config.hidden_size, config.intermediate_size));
  intermediate_act_fn = register_module("intermediate_act_fn", nn::GELU());
}

torch::Tensor BertIntermediateImpl::forward(const torch::Tensor& hidden) {
  return intermediate_act_fn(dense(hidden));
}

BertLayerImpl::BertLayerImpl(const BertConfig& config_) : config(config_) { reset(); }

void BertLayerImpl::reset() {
  attention = register_module("attention", BertAttention(config));
  intermediate = register_module("intermediate", BertIntermediate(config));
  output = register_module("output", BertResidualOutput(config, config.intermediate_size));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& extended_mask,
                                     torch::Tensor* probs) {
  const torch::Tensor attended = attention(hidden, extended_mask, probs);
  return output(intermediate(attended), attended);
}

torch::Tensor BertLayerImpl::forward_packed(const torch::Tensor& hidden, const PackedSequences& packed) {
  const torch::Tensor attended = attention->forward_packed(hidden, packed);
  return output(intermediate(attended), attended);
}

}  // namespace qsim::models::bert
