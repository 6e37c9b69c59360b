#pragma once

// ReferenceBert: the BERT forward of a sequence classifier (or span QA head) written
// with plain ATen ops, calling a caller-supplied quantizer at exactly the points of
// semantics §7.5 (named by the slot's module path), under the config's zoo or hf mask. The sim tests plug in hand-applied fake quant
// (quantized-mode parity) or a differentiable surrogate (gradient checks). Parameters
// come from a name → tensor map, so the reference can run in float64.

#include <cmath>
#include <functional>
#include <string>
#include <unordered_map>

#include <torch/torch.h>

#include "qsim/models/bert/bert_config.hpp"
#include "tiny_bert.hpp"

namespace qsim::test {

class ReferenceBert {
 public:
  /// Returns the tensor the quantizer `name` gives for x (x itself when it is off).
  using Quantize = std::function<torch::Tensor(const std::string& name, const torch::Tensor& x)>;

  ReferenceBert(models::bert::BertConfig config, std::unordered_map<std::string, torch::Tensor> params, Quantize quantize)
      : config_(std::move(config)), params_(std::move(params)), quantize_(std::move(quantize)) {}

  torch::Tensor logits(const Batch& batch) const {
    const std::string e = "bert.embeddings.";
    const int64_t length = batch.input_ids.size(1);
    const torch::Tensor words = out(e + "word_embeddings", at::embedding(w(e + "word_embeddings"), batch.input_ids));
    const torch::Tensor types =
        out(e + "token_type_embeddings", at::embedding(w(e + "token_type_embeddings"), batch.token_type_ids));
    const torch::Tensor positions =
        out(e + "position_embeddings",
            at::embedding(w(e + "position_embeddings"), torch::arange(length, torch::kLong).unsqueeze(0)));
    torch::Tensor h = out(e + "add_2", out(e + "add_1", words + types) + positions);
    h = out(e + "dropout", norm(e + "LayerNorm", h));
    // hf: (1 − mask)·−10000 [B, 1, 1, L]; zoo: le(that, −1)·−6, an int64 tensor.
    const torch::Tensor extended = ((1.0 - batch.attention_mask.to(torch::kFloat)) * -10000.0).unsqueeze(1).unsqueeze(2);
    const torch::Tensor mask = config_.attention_mask.mode == models::bert::MaskMode::hf
                                   ? extended
                                   : at::le(extended, -1).to(torch::kLong).mul(-6);
    for (int64_t i = 0; i < config_.num_hidden_layers; ++i) h = layer("bert.encoder.layer." + std::to_string(i) + ".", h, mask);
    // Span QA: qa_outputs on every token, [B, L, 2].
    if (config_.head == models::bert::BertHead::question_answering) return linear("qa_outputs", h);
    const torch::Tensor pooled =
        out("bert.pooler.activation", at::tanh(linear("bert.pooler.dense", h.select(1, 0))));
    return linear("classifier", out("dropout", pooled));
  }

 private:
  torch::Tensor q(const std::string& name, const torch::Tensor& x) const { return quantize_(name, x); }
  torch::Tensor out(const std::string& block, const torch::Tensor& x) const { return q(block + ".output_quantizer", x); }
  torch::Tensor w(const std::string& block) const { return q(block + ".weight_quantizer", params_.at(block + ".weight")); }
  torch::Tensor b(const std::string& block) const { return params_.at(block + ".bias"); }
  torch::Tensor linear(const std::string& block, const torch::Tensor& x) const {
    return out(block, at::linear(x, w(block), b(block)));
  }
  torch::Tensor norm(const std::string& block, const torch::Tensor& x) const {
    return out(block, at::layer_norm(x, {config_.hidden_size}, w(block), b(block), config_.layer_norm_eps));
  }

  torch::Tensor layer(const std::string& l, const torch::Tensor& h, const torch::Tensor& mask) const {
    const std::string s = l + "attention.self.";
    const int64_t heads = config_.num_attention_heads, d = config_.head_size();
    const auto split = [&](const torch::Tensor& x) { return x.view({x.size(0), x.size(1), heads, d}).permute({0, 2, 1, 3}); };
    const torch::Tensor qh = split(linear(s + "query", h));
    const torch::Tensor kh = split(linear(s + "key", h));
    const torch::Tensor vh = split(linear(s + "value", h));
    torch::Tensor scores = out(s + "matmul_1", at::matmul(qh, kh.transpose(-1, -2))) / std::sqrt(static_cast<double>(d));
    scores = out(s + "mask_add", q(s + "mask_add.input_quantizers.0", scores) + q(s + "mask_add.input_quantizers.1", mask));
    const torch::Tensor probs = out(s + "dropout", out(s + "softmax", at::softmax(scores, -1)));
    const torch::Tensor context = out(s + "matmul_2", at::matmul(probs, vh))
                                      .permute({0, 2, 1, 3})
                                      .reshape({h.size(0), h.size(1), config_.hidden_size});
    const std::string a = l + "attention.output.";
    const torch::Tensor attended =
        norm(a + "LayerNorm", out(a + "add", out(a + "dropout", linear(a + "dense", context)) + h));
    const torch::Tensor inner =
        out(l + "intermediate.intermediate_act_fn", at::gelu(linear(l + "intermediate.dense", attended)));
    const std::string o = l + "output.";
    return norm(o + "LayerNorm", out(o + "add", out(o + "dropout", linear(o + "dense", inner)) + attended));
  }

  models::bert::BertConfig config_;
  std::unordered_map<std::string, torch::Tensor> params_;
  Quantize quantize_;
};

/// The model's parameters by name (detached; quantizer ranges excluded).
inline std::unordered_map<std::string, torch::Tensor> model_params(models::bert::BertForTask& model) {
  std::unordered_map<std::string, torch::Tensor> params;
  for (const auto& item : model->named_parameters()) {
    if (item.key().find("encoding_") == std::string::npos) params[item.key()] = item.value().detach();
  }
  return params;
}

}  // namespace qsim::test
