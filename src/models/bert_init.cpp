#include "qsim/models/bert/bert_init.hpp"

#include <torch/torch.h>

#include "qsim/nn/embedding.hpp"
#include "qsim/nn/layer_norm.hpp"
#include "qsim/nn/linear.hpp"

namespace qsim::models::bert {

namespace {

void init_one(torch::nn::Module* module, double initializer_range) {
  if (auto* linear = dynamic_cast<nn::LinearImpl*>(module)) {
    linear->weight.normal_(0.0, initializer_range);
    if (linear->bias.defined()) linear->bias.zero_();
  } else if (auto* embedding = dynamic_cast<nn::EmbeddingImpl*>(module)) {
    embedding->weight.normal_(0.0, initializer_range);
    const auto padding_idx = embedding->options.padding_idx();
    if (padding_idx) embedding->weight[*padding_idx].zero_();
  } else if (auto* norm = dynamic_cast<nn::LayerNormImpl*>(module)) {
    if (norm->weight.defined()) norm->weight.fill_(1.0);
    if (norm->bias.defined()) norm->bias.zero_();
  }
}

}  // namespace

void init_weights(torch::nn::Module& module, double initializer_range) {
  torch::NoGradGuard no_grad;
  // Not modules(include_self=true): that needs the module in a shared_ptr, which a
  // constructor's reset() does not have yet.
  init_one(&module, initializer_range);
  for (const auto& child : module.modules(/*include_self=*/false)) init_one(child.get(), initializer_range);
}

}  // namespace qsim::models::bert
