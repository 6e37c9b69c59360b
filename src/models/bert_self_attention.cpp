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

std::array<torch::Tensor, 3> BertSelfAttentionImpl::project(const torch::Tensor& hidden) {
  if (const auto fused = fused_qkv_->project(*query, *key, *value, hidden)) return {(*fused)[0], (*fused)[1], (*fused)[2]};
  return {query(hidden), key(hidden), value(hidden)};
}

torch::Tensor BertSelfAttentionImpl::attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                            const torch::Tensor& key_mask, torch::Tensor* probs) {
  // HF's `scores / sqrt(d)`: in inference written over the matmul's fresh result,
  // with mask_add's input quantizer fused into the same pass.
  const nn::detail::ChunkedResult scaled = nn::detail::divide_into(
      matmul_1(q, k.transpose(-1, -2)), std::sqrt(static_cast<double>(config.head_size())),
      *mask_add->input_quantizer(0));
  torch::Tensor scores = scaled.value;
  if (key_mask.defined()) {
    scores = scaled.quantized ? mask_add->forward_prequantized(scaled.value, key_mask) : mask_add(scaled.value, key_mask);
  }
  torch::Tensor attention = softmax(scores);
  if (probs != nullptr) *probs = attention;
  attention = dropout(attention);
  return matmul_2(attention, v);  // [B, A, L, d]
}

torch::Tensor BertSelfAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& extended_mask,
                                             torch::Tensor* probs) {
  const auto [q, k, v] = project(hidden);
  const torch::Tensor context = attend(split_heads(q), split_heads(k), split_heads(v),
                                       config.attention_mask.key_mask(extended_mask), probs);
  return context.permute({0, 2, 1, 3}).reshape({hidden.size(0), hidden.size(1), config.hidden_size});
}

torch::Tensor BertSelfAttentionImpl::forward_packed(const torch::Tensor& hidden, const PackedSequences& packed) {
  const auto [q, k, v] = project(hidden);
  std::vector<torch::Tensor> contexts;  // [1, L_b, A, d] views, one per non-empty sequence
  int64_t offset = 0;
  for (const int64_t length : packed.lengths) {
    if (length == 0) continue;
    const auto heads = [&](const torch::Tensor& x) { return split_heads(x.narrow(1, offset, length)); };
    contexts.push_back(attend(heads(q), heads(k), heads(v), {}, nullptr).permute({0, 2, 1, 3}));
    offset += length;
  }
  if (contexts.empty()) return at::zeros_like(hidden);  // every sequence empty
  return at::cat(contexts, 1).reshape({1, offset, config.hidden_size});
}

}  // namespace qsim::models::bert
