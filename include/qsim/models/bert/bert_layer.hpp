#pragma once

// One encoder layer: attention, intermediate (dense I + GELU), output (dense back to
// H, dropout, residual add, LayerNorm), under Hugging Face's names.

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/models/bert/bert_attention.hpp"
#include "qsim/models/bert/bert_config.hpp"
#include "qsim/nn/gelu.hpp"
#include "qsim/nn/linear.hpp"

namespace qsim::models::bert {

/// intermediate_act_fn(dense(hidden)): H → I with exact GELU.
class BertIntermediateImpl : public torch::nn::Cloneable<BertIntermediateImpl> {
 public:
  explicit BertIntermediateImpl(const BertConfig& config);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& hidden);

  BertConfig config;
  nn::Linear dense{nullptr};
  nn::GELU intermediate_act_fn{nullptr};
};
TORCH_MODULE(BertIntermediate);

class BertLayerImpl : public torch::nn::Cloneable<BertLayerImpl> {
 public:
  explicit BertLayerImpl(const BertConfig& config);
  void reset() override;
  /// See BertSelfAttentionImpl::forward for `probs`.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& extended_mask,
                        torch::Tensor* probs = nullptr);
  /// hidden: [1, T, H], the real tokens of `packed` (BertSelfAttentionImpl's packed forward).
  torch::Tensor forward_packed(const torch::Tensor& hidden, const PackedSequences& packed);

  BertConfig config;
  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertLayer);

}  // namespace qsim::models::bert
