#pragma once

// BertSelfAttention as in the model zoo (quantization-semantics.md §7.3):
//   Q, K, V = query(h), key(h), value(h), split into heads
//   scores  = matmul_1(Q, Kᵀ) / sqrt(head_size)         (the division is functional)
//   scores  = mask_add(scores, key_mask)                (an nn::Add: 2 input slots)
//   probs   = dropout(softmax(scores))
//   context = matmul_2(probs, V), heads merged back to [B, L, H]
// key_mask comes from AttentionMask::key_mask (float for hf/custom, int64 0/−6 for zoo).
// The zoo's unused add/sub/div/mul modules are not created: they receive no data.
// In inference the three projections run as one GEMM where their quantizers allow
// it (same values; src/models/fused_qkv.hpp).

#include <array>
#include <memory>

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/models/bert/bert_config.hpp"
#include "qsim/models/bert/packed_sequences.hpp"
#include "qsim/nn/dropout.hpp"
#include "qsim/nn/elementwise.hpp"
#include "qsim/nn/linear.hpp"
#include "qsim/nn/softmax.hpp"

namespace qsim::models::bert {

namespace detail {
class FusedQkv;
}

class BertSelfAttentionImpl : public torch::nn::Cloneable<BertSelfAttentionImpl> {
 public:
  explicit BertSelfAttentionImpl(const BertConfig& config);
  void reset() override;

  /// hidden: [B, L, H]; extended_mask: [B, 1, 1, L] from AttentionMask::extend.
  /// When `probs` is given it receives the softmax output [B, A, L, L] (before dropout).
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& extended_mask,
                        torch::Tensor* probs = nullptr);
  /// hidden: [1, T, H], the real tokens of `packed`; each sequence attends over its
  /// own tokens, so no key is masked (mask_add does not run). For FP32 inference
  /// (BertModelImpl::skip_padding): mask_add's quantizers must be disabled.
  torch::Tensor forward_packed(const torch::Tensor& hidden, const PackedSequences& packed);

  BertConfig config;
  nn::Linear query{nullptr};
  nn::Linear key{nullptr};
  nn::Linear value{nullptr};
  nn::MatMul matmul_1{nullptr};
  nn::Add mask_add{nullptr};
  nn::Softmax softmax{nullptr};
  nn::Dropout dropout{nullptr};
  nn::MatMul matmul_2{nullptr};

 private:
  torch::Tensor split_heads(const torch::Tensor& x) const;
  // Q, K, V of `hidden`, each [B, L, H].
  std::array<torch::Tensor, 3> project(const torch::Tensor& hidden);
  // softmax(QKᵀ/√d + key_mask)·V over heads [B, A, L, d]; no mask_add when key_mask
  // is undefined.
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& key_mask, torch::Tensor* probs);

  // In inference, Q/K/V through one GEMM (src/models/fused_qkv.hpp); made anew by
  // reset(), so a clone never shares the stacked-weight cache.
  std::shared_ptr<detail::FusedQkv> fused_qkv_;
};
TORCH_MODULE(BertSelfAttention);

}  // namespace qsim::models::bert
