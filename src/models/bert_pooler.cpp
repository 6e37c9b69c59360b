#include "qsim/models/bert/bert_pooler.hpp"

namespace qsim::models::bert {

BertPoolerImpl::BertPoolerImpl(const BertConfig& config_) : config(config_) { reset(); }

void BertPoolerImpl::reset() {
  dense = register_module("dense", nn::Linear(config.hidden_size, config.hidden_size));
  activation = register_module("activation", nn::Tanh());
}

torch::Tensor BertPoolerImpl::forward(const torch::Tensor& hidden) {
  return activation(dense(hidden.select(1, 0)));
}

}  // namespace qsim::models::bert
