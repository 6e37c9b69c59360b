#include "qsim/models/bert/packed_sequences.hpp"

#include <numeric>

#include <ATen/ATen.h>

#include "detail/check.hpp"

namespace qsim::models::bert {

std::optional<PackedSequences> PackedSequences::from_mask(const at::Tensor& attention_mask) {
  QSIM_CHECK(attention_mask.dim() == 2, ValueError, "'attention_mask': expected [batch, seq], got {} dims",
             attention_mask.dim());
  const at::Tensor real = attention_mask != 0;
  if (!at::logical_or(attention_mask == 0, attention_mask == 1).all().item<bool>()) return std::nullopt;
  PackedSequences packed;
  packed.batch = attention_mask.size(0);
  packed.seq = attention_mask.size(1);
  packed.index = at::nonzero(real.flatten()).squeeze(1);
  const at::Tensor lengths = real.sum(1).to(at::kLong).contiguous();
  packed.lengths.assign(lengths.data_ptr<int64_t>(), lengths.data_ptr<int64_t>() + lengths.numel());
  return packed;
}

int64_t PackedSequences::tokens() const { return std::accumulate(lengths.begin(), lengths.end(), int64_t{0}); }

at::Tensor PackedSequences::pack(const at::Tensor& padded) const {
  QSIM_CHECK(padded.dim() == 3 && padded.size(0) == batch && padded.size(1) == seq, ValueError,
             "PackedSequences::pack: expected [{}, {}, H], got {} dims", batch, seq, padded.dim());
  return padded.reshape({batch * seq, padded.size(2)}).index_select(0, index).unsqueeze(0);
}

at::Tensor PackedSequences::unpack(const at::Tensor& packed) const {
  QSIM_CHECK(packed.dim() == 3 && packed.size(0) == 1 && packed.size(1) == tokens(), ValueError,
             "PackedSequences::unpack: expected [1, {}, H], got {} dims", tokens(), packed.dim());
  const int64_t hidden = packed.size(2);
  return at::zeros({batch * seq, hidden}, packed.options())
      .index_copy_(0, index, packed.squeeze(0))
      .view({batch, seq, hidden});
}

}  // namespace qsim::models::bert
