#pragma once

// PackedSequences: the real tokens of a padded batch, sequence after sequence — what
// BertModel runs its encoder on when BertModelImpl::skip_padding applies. Token-wise
// layers (projections, FFN, residual adds, LayerNorms) then do no work for padding,
// and self-attention runs per sequence over that sequence's own tokens, as PyTorch's
// nested-tensor fast path of nn.TransformerEncoder does.

#include <cstdint>
#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

namespace qsim::models::bert {

struct PackedSequences {
  /// [T] int64: where the real tokens sit in the flattened [B·L] batch, in order.
  at::Tensor index;
  /// Real tokens per sequence (B entries, summing to T).
  std::vector<int64_t> lengths;
  int64_t batch = 0;
  int64_t seq = 0;

  /// The packing of a [B, L] attention mask (1 = real token); nullopt unless every
  /// value is exactly 0 or 1 (a soft mask weights keys, it does not drop them).
  static std::optional<PackedSequences> from_mask(const at::Tensor& attention_mask);

  /// T, the number of real tokens.
  int64_t tokens() const;
  /// [B, L, H] → [1, T, H]: the real tokens' rows.
  at::Tensor pack(const at::Tensor& padded) const;
  /// [1, T, H] → [B, L, H], zeros at the padded positions (PyTorch's
  /// to_padded_tensor(0) convention).
  at::Tensor unpack(const at::Tensor& packed) const;
};

}  // namespace qsim::models::bert
