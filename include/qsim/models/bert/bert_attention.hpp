#pragma once

// BertAttention = self-attention + BertSelfOutput (dense, dropout, residual `add`,
// LayerNorm), with Hugging Face's module names: attention.self.*, attention.output.*.

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/models/bert/bert_config.hpp"
#include "qsim/models/bert/bert_self_attention.hpp"
#include "qsim/nn/dropout.hpp"
#include "qsim/nn/elementwise.hpp"
#include "qsim/nn/layer_norm.hpp"
#include "qsim/nn/linear.hpp"

namespace qsim::models::bert {

/// LayerNorm(add(dropout(dense(hidden)), input)) — shared by BertSelfOutput (dense
/// H→H) and BertOutput (dense I→H), whose structure is identical.
class BertResidualOutputImpl : public torch::nn::Cloneable<BertResidualOutputImpl> {
 public:
  BertResidualOutputImpl(const BertConfig& config, int64_t in_features);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& input);

  BertConfig config;
  int64_t in_features;
  nn::Linear dense{nullptr};
  nn::LayerNorm LayerNorm{nullptr};  // NOLINT: the Hugging Face name
  nn::Dropout dropout{nullptr};
  nn::Add add{nullptr};
};
TORCH_MODULE(BertResidualOutput);

class BertAttentionImpl : public torch::nn::Cloneable<BertAttentionImpl> {
 public:
  explicit BertAttentionImpl(const BertConfig& config);
  void reset() override;
  /// See BertSelfAttentionImpl::forward for `probs`.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& extended_mask,
                        torch::Tensor* probs = nullptr);
  /// hidden: [1, T, H], the real tokens of `packed` (BertSelfAttentionImpl's packed forward).
  torch::Tensor forward_packed(const torch::Tensor& hidden, const PackedSequences& packed);

  BertConfig config;
  BertSelfAttention self{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

}  // namespace qsim::models::bert
