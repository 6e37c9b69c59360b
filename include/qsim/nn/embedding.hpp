#pragma once

// Embedding: a lookup table with quantizer slots for its (integer) input, its output
// and its weight. AIMET maps nn.Embedding to no ONNX type; its config rules come from
// the defaults only, so op_type() is "Embedding" (which matches no default rule).
// The input slot exists because AIMET wraps the module with one; integer indices pass
// through a quantizer untouched.

#include <cstdint>
#include <optional>
#include <string_view>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/nn/quantizable.hpp"

namespace qsim::nn {

/// Options for Embedding, e.g. `EmbeddingOptions(30522, 768).padding_idx(0)`.
struct EmbeddingOptions {
  EmbeddingOptions(int64_t num_embeddings, int64_t embedding_dim);
  /// Number of rows (vocabulary size).
  TORCH_ARG(int64_t, num_embeddings);
  /// Size of each row.
  TORCH_ARG(int64_t, embedding_dim);
  /// Row whose gradient is always zero (Hugging Face's pad_token_id); empty = none.
  TORCH_ARG(std::optional<int64_t>, padding_idx) = std::nullopt;
};

/// Example: `Embedding words(EmbeddingOptions(30522, 768)); auto e = words(input_ids);`
class EmbeddingImpl : public torch::nn::Cloneable<EmbeddingImpl>, public Quantizable {
 public:
  EmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim)
      : EmbeddingImpl(EmbeddingOptions(num_embeddings, embedding_dim)) {}
  explicit EmbeddingImpl(const EmbeddingOptions& options);

  /// Registers weight [num_embeddings, embedding_dim] ~ N(0, 1) and the slots
  /// input_quantizers.0, weight_quantizer, output_quantizer.
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  std::string_view op_type() const override { return "Embedding"; }

  /// indices: integer tensor of any shape, values in [0, num_embeddings) (not checked
  /// here: models validate their inputs once) → [..., embedding_dim].
  torch::Tensor forward(const torch::Tensor& indices);

  EmbeddingOptions options;
  torch::Tensor weight;
  quant::QuantizerNode weight_quantizer{nullptr};

 private:
  bool can_quantize_gathered_rows() const;
};
TORCH_MODULE(Embedding);

}  // namespace qsim::nn
