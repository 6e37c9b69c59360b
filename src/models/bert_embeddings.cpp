#include "qsim/models/bert/bert_embeddings.hpp"

namespace qsim::models::bert {

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& config_) : config(config_) { reset(); }

void BertEmbeddingsImpl::reset() {
  const int64_t hidden = config.hidden_size;
  // Registration order = Hugging Face's state-dict order.
  word_embeddings = register_module(
      "word_embeddings",
      nn::Embedding(nn::EmbeddingOptions(config.vocab_size, hidden).padding_idx(config.pad_token_id)));
  position_embeddings =
      register_module("position_embeddings", nn::Embedding(config.max_position_embeddings, hidden));
  token_type_embeddings = register_module("token_type_embeddings", nn::Embedding(config.type_vocab_size, hidden));
  LayerNorm = register_module("LayerNorm", nn::LayerNorm(nn::LayerNormOptions({hidden}).eps(config.layer_norm_eps)));
  dropout = register_module("dropout", nn::Dropout(config.hidden_dropout_prob));
  add_1 = register_module("add_1", nn::Add());
  add_2 = register_module("add_2", nn::Add());
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids) {
  const int64_t length = input_ids.size(1);
  const torch::Tensor position_ids =
      torch::arange(length, torch::TensorOptions().dtype(torch::kLong).device(input_ids.device())).unsqueeze(0);
  // One call per statement: the quantizers see the zoo's forward order (§7.5).
  torch::Tensor words = word_embeddings(input_ids);
  const torch::Tensor types = token_type_embeddings(token_type_ids);
  torch::Tensor embeddings = add_1(std::move(words), types);  // moved: the sum may reuse its memory
  embeddings = add_2(std::move(embeddings), position_embeddings(position_ids));
  return dropout(LayerNorm(embeddings));
}

}  // namespace qsim::models::bert
