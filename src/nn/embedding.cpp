#include "qsim/nn/embedding.hpp"

#include <ostream>

#include <torch/nn/init.h>

#include "detail/check.hpp"

namespace qsim::nn {

EmbeddingOptions::EmbeddingOptions(int64_t num_embeddings, int64_t embedding_dim)
    : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}

EmbeddingImpl::EmbeddingImpl(const EmbeddingOptions& options_) : options(options_) { reset(); }

void EmbeddingImpl::reset() {
  QSIM_CHECK(options.num_embeddings() > 0 && options.embedding_dim() > 0, ConfigError,
             "embedding: sizes must be positive, got num_embeddings={} embedding_dim={}",
             options.num_embeddings(), options.embedding_dim());
  const auto padding_idx = options.padding_idx();
  QSIM_CHECK(!padding_idx || (*padding_idx >= 0 && *padding_idx < options.num_embeddings()), ConfigError,
             "embedding: padding_idx must be in [0, {}), got {}", options.num_embeddings(),
             padding_idx.value_or(0));
  register_activation_quantizers(*this, 1);
  weight = register_parameter("weight", torch::empty({options.num_embeddings(), options.embedding_dim()}));
  weight_quantizer = register_param_quantizer(*this, "weight");
  torch::NoGradGuard no_grad;
  torch::nn::init::normal_(weight);
  if (padding_idx) weight[*padding_idx].zero_();
}

void EmbeddingImpl::pretty_print(std::ostream& stream) const {
  stream << "qsim::nn::Embedding(num_embeddings=" << options.num_embeddings()
         << ", embedding_dim=" << options.embedding_dim();
  if (options.padding_idx()) stream << ", padding_idx=" << *options.padding_idx();
  stream << ")";
}

bool EmbeddingImpl::can_quantize_gathered_rows() const {
  const quant::QuantizerNodeImpl& q = *weight_quantizer;
  // Gradients keep AIMET's order of operations (and summation) exactly.
  return q.enabled() && !q.options.channel_axis() && !q.observer() && !at::GradMode::is_enabled();
}

torch::Tensor EmbeddingImpl::forward(const torch::Tensor& indices) {
  const int64_t padding_idx = options.padding_idx().value_or(-1);
  const torch::Tensor ids = quantize_input(0, indices);  // inputs, then the weight
  if (can_quantize_gathered_rows()) {
    // Quantizing is elementwise with one encoding, so q(W)[ids] == q(W[ids]): gather
    // first and quantize only the looked-up rows, not the whole (vocab-sized) table.
    return quantize_output(weight_quantizer->forward_owned(at::embedding(weight, ids, padding_idx)));
  }
  const torch::Tensor w = weight_quantizer(weight);
  return quantize_output(at::embedding(w, ids, padding_idx));
}

}  // namespace qsim::nn
