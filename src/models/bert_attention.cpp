#include "qsim/models/bert/bert_attention.hpp"

namespace qsim::models::bert {

BertResidualOutputImpl::BertResidualOutputImpl(const BertConfig& config_, int64_t in_features_)
    : config(config_), in_features(in_features_) {
  reset();
}

void BertResidualOutputImpl::reset() {
  dense = register_module("dense", nn::Linear(in_features, config.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", nn::LayerNorm(nn::LayerNormOptions({config.hidden_size}).eps(config.layer_norm_eps)));
  dropout = register_module("dropout", nn::Dropout(config.hidden_dropout_prob));
  add = register_module("add", nn::Add());
}

torch::Tensor BertResidualOutputImpl::forward(const torch::Tensor& hidden, const torch::Tensor& input) {
  return LayerNorm(add(dropout(dense(hidden)), input));
}

BertAttentionImpl::BertAttentionImpl(const BertConfig& config_) : config(config_) { reset(); }

void BertAttentionImpl::reset() {
  self = register_module("self", BertSelfAttention(config));
  output = register_module("output", BertResidualOutput(config, config.hidden_size));
}

torch::Tensor BertAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& extended_mask,
                                         torch::Tensor* probs) {
  return output(self(hidden, extended_mask, probs), hidden);
}

torch::Tensor BertAttentionImpl::forward_packed(const torch::Tensor& hidden, const PackedSequences& packed) {
  return output(self->forward_packed(hidden, packed), hidden);
}

}  // namespace qsim::models::bert
