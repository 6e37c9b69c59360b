#include "qsim/models/bert/bert_self_attention.hpp"

#include <cmath>

#include "models/fused_qkv.hpp"
#include "qsim/quant/tensor_ownership.hpp"

namespace qsim::models::bert {

BertSelfAttentionImpl::BertSelfAttentionImpl(const BertConfig& config_) : config(config_) { reset(); }

void BertSelfAttentionImpl::reset() {
  const int64_t hidden = config.hidden_size;
  query = register_module("query", nn::Linear(hidden, hidden));
  key = register_module("key", nn::Linear(hidden, hidden));
  value = register_module("value", nn::Linear(hidden, hidden));
  matmul_1 = register_module("matmul_1", nn::MatMul());
  mask_add = register_module("mask_add", nn::Add());
  softmax = register_module("softmax", nn::Softmax(-1));
  dropout = register_module("dropout", nn::Dropout(config.attention_probs_dropout_prob));
  matmul_2 = register_module("matmul_2", nn::MatMul());
  fused_qkv_ = std::make_shared<detail::FusedQkv>();
}

torch::Tensor BertSelfAttentionImpl::split_heads(const torch::Tensor& x) const {
  // [B, L, H] → [B, A, L, d] (a view; HF's transpose_for_scores)
  return x.view({x.size(0), x.size(1), config.num_attention_heads, config.head_size()}).permute({0, 2, 1, 3});
}

torch::Tensor BertSelfAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& extended_mask,
                                             torch::Tensor* probs) {
  const auto fused = fused_qkv_->project(*query, *key, *value, hidden);
  const torch::Tensor q = split_heads(fused ? (*fused)[0] : query(hidden));
  const torch::Tensor k = split_heads(fused ? (*fused)[1] : key(hidden));
  const torch::Tensor v = split_heads(fused ? (*fused)[2] : value(hidden));
  // HF's `scores / sqrt(d)`: in inference written over the matmul's fresh result,
  // with mask_add's input quantizer fused into the same pass.
  const nn::detail::ChunkedResult scaled = nn::detail::divide_into(
      matmul_1(q, k.transpose(-1, -2)), std::sqrt(static_cast<double>(config.head_size())),
      *mask_add->input_quantizer(0));
  const torch::Tensor key_mask = config.attention_mask.key_mask(extended_mask);
  torch::Tensor scores = scaled.quantized ? mask_add->forward_prequantized(scaled.value, key_mask)
                                          : mask_add(scaled.value, key_mask);
  torch::Tensor attention = softmax(scores);
  if (probs != nullptr) *probs = attention;
  attention = dropout(attention);
  const torch::Tensor context = matmul_2(attention, v);  // [B, A, L, d]
  return context.permute({0, 2, 1, 3}).reshape({hidden.size(0), hidden.size(1), config.hidden_size});
}

}  // namespace qsim::models::bert
