#pragma once

// BertPooler: activation(dense(hidden[:, 0])) with a Tanh activation. The token
// selection is functional (no quantizer), as in the zoo graph.

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/models/bert/bert_config.hpp"
#include "qsim/nn/linear.hpp"
#include "qsim/nn/tanh.hpp"

namespace qsim::models::bert {

class BertPoolerImpl : public torch::nn::Cloneable<BertPoolerImpl> {
 public:
  explicit BertPoolerImpl(const BertConfig& config);
  void reset() override;
  /// [B, L, H] → [B, H].
  torch::Tensor forward(const torch::Tensor& hidden);

  BertConfig config;
  nn::Linear dense{nullptr};
  nn::Tanh activation{nullptr};
};
TORCH_MODULE(BertPooler);

}  // namespace qsim::models::bert
