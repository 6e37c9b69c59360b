#pragma once

// BertEmbeddings as the model zoo builds it (quantization-semantics.md §7.3/§7.5):
// word_embeddings(ids), token_type_embeddings(types), add_1(word, type),
// position_embeddings(arange(L)), add_2(·, position), LayerNorm, dropout.
// Registered names are Hugging Face's, so checkpoints load by name and quantizer
// paths read bert.embeddings.add_1.output_quantizer etc.

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/models/bert/bert_config.hpp"
#include "qsim/nn/dropout.hpp"
#include "qsim/nn/elementwise.hpp"
#include "qsim/nn/embedding.hpp"
#include "qsim/nn/layer_norm.hpp"

namespace qsim::models::bert {

class BertEmbeddingsImpl : public torch::nn::Cloneable<BertEmbeddingsImpl> {
 public:
  explicit BertEmbeddingsImpl(const BertConfig& config);
  void reset() override;

  /// input_ids, token_type_ids: int64 [B, L] (validated by BertModel) → [B, L, H].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids);

  BertConfig config;
  nn::Embedding word_embeddings{nullptr};
  nn::Embedding position_embeddings{nullptr};
  nn::Embedding token_type_embeddings{nullptr};
  nn::LayerNorm LayerNorm{nullptr};  // NOLINT: the Hugging Face name
  nn::Dropout dropout{nullptr};
  nn::Add add_1{nullptr};
  nn::Add add_2{nullptr};
};
TORCH_MODULE(BertEmbeddings);

}  // namespace qsim::models::bert
