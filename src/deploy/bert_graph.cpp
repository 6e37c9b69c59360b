#include "deploy/bert_graph.hpp"

#include <cmath>

#include "detail/check.hpp"

namespace qsim::deploy::detail {
namespace {

using models::bert::BertConfig;
using onnx::TensorProto;

constexpr int kTokens = 3;  // rank of [batch, sequence, features]
constexpr int kHeads = 4;   // rank of [batch, heads, sequence, head_size]

// Writes one BertForTask; each method is one qsim block (or a group of them) and
// returns the tensor its readers read.
class BertWriter {
 public:
  BertWriter(const models::bert::BertForTask& model, GraphBuilder& graph, QuantizerSites& sites,
             const OnnxExportOptions& options)
      : model_(model), config_(model->config), g_(graph), q_(sites), options_(options) {}

  std::vector<std::string> write() {
    add_inputs();
    const std::string key_mask = attention_mask();
    std::string hidden = embeddings("input_ids", "token_type_ids");
    for (std::size_t i = 0; i < model_->bert->encoder->layer->size(); ++i) {
      hidden = layer("bert.encoder.layer." + std::to_string(i), *model_->bert->encoder->at(i), hidden, key_mask);
    }
    return heads(hidden);
  }

 private:
  std::vector<Dim> token_dims() const {
    return {options_.static_batch() > 0 ? Dim(options_.static_batch()) : Dim(std::string("batch")),
            options_.static_sequence() > 0 ? Dim(options_.static_sequence()) : Dim(std::string("sequence"))};
  }

  void add_inputs() {
    for (const char* name : {"input_ids", "attention_mask", "token_type_ids"}) {
      g_.input(name, TensorProto::INT64, token_dims());
    }
  }

  // What self-attention adds to its scaled scores, [batch, 1, 1, sequence] float:
  // (1 − mask)·(−10000) (hf; custom: its value), or for zoo le(that, −1)·(−6).
  std::string attention_mask() {
    const models::bert::AttentionMask& mask = config_.attention_mask;
    const double value = mask.mode == models::bert::MaskMode::custom ? mask.custom_value : -10000.0;
    const std::string as_float = g_.node("Cast", {"attention_mask"}, "bert.attention_mask_float", 2,
                                         {{"to", int64_t{TensorProto::FLOAT}}});
    const std::string inverted =
        g_.node("Sub", {g_.scalar("bert.one", 1.0f), as_float}, "bert.attention_mask_inverted", 2);
    const std::string scaled = g_.node("Mul", {inverted, g_.scalar("bert.mask_value", static_cast<float>(value))},
                                       "bert.attention_mask_scaled", 2);
    const std::string extended = g_.node("Unsqueeze", {scaled, g_.ints("bert.mask_axes", {1, 2})},
                                         "bert.extended_attention_mask", kHeads);
    if (mask.mode != models::bert::MaskMode::zoo) return extended;
    const std::string masked =
        g_.node("LessOrEqual", {extended, g_.scalar("bert.minus_one", -1.0f)}, "bert.key_mask_bool", kHeads);
    const std::string as_number =
        g_.node("Cast", {masked}, "bert.key_mask_float", kHeads, {{"to", int64_t{TensorProto::FLOAT}}});
    return g_.node("Mul", {as_number, g_.scalar("bert.zoo_mask_value", -6.0f)}, "bert.key_mask", kHeads);
  }

  std::string position_ids() {
    if (options_.static_sequence() > 0) {
      return g_.initializer("bert.embeddings.position_ids",
                            at::arange(options_.static_sequence(), at::kLong).unsqueeze(0));
    }
    const std::string shape = g_.node("Shape", {"input_ids"}, "bert.embeddings.input_shape", 1);
    const std::string length = g_.node("Gather", {shape, g_.initializer("bert.embeddings.sequence_axis",
                                                                        at::scalar_tensor(1, at::kLong))},
                                       "bert.embeddings.sequence_length", 0, {{"axis", int64_t{0}}});
    const std::string range =
        g_.node("Range",
                {g_.initializer("bert.embeddings.zero", at::scalar_tensor(0, at::kLong)), length,
                 g_.initializer("bert.embeddings.step", at::scalar_tensor(1, at::kLong))},
                "bert.embeddings.position_range", 1);
    return g_.node("Unsqueeze", {range, g_.ints("bert.embeddings.batch_axis", {0})}, "bert.embeddings.position_ids",
                   2);
  }

  std::string embedding(const std::string& block, const nn::EmbeddingImpl& e, const std::string& ids) {
    q_.integer_input(block, 0);  // int64 ids: never quantized (semantics §7.5)
    const std::string table = q_.parameter(block, "weight", e.weight);
    const std::string out = g_.node("Gather", {table, ids}, block + ".output", kTokens, {{"axis", int64_t{0}}});
    return q_.output(block, out);
  }

  std::string binary(const std::string& op, const std::string& block, const std::string& a, const std::string& b,
                     int rank) {
    const std::string x = q_.input(block, 0, a);
    const std::string y = q_.input(block, 1, b);
    const bool sum = op == "Add" && q_.per_axis_qdq(block, {x, y});  // see QuantizerSites::per_axis_qdq
    return q_.output(block, g_.node(sum ? "Sum" : op, {x, y}, block + ".output", rank));
  }

  std::string layer_norm(const std::string& block, const nn::LayerNormImpl& ln, const std::string& x) {
    const std::string in = q_.input(block, 0, x);
    QSIM_CHECK(ln.weight.defined() && ln.bias.defined(), ConfigError,
               "onnx export: LayerNorm '{}' without affine parameters is not supported", block);
    const std::string gamma = q_.parameter(block, "weight", ln.weight);
    const std::string beta = q_.parameter(block, "bias", ln.bias);
    const auto axis = -static_cast<int64_t>(ln.options.normalized_shape().size());
    const std::string out = g_.node("LayerNormalization", {in, gamma, beta}, block + ".output", g_.rank(x),
                                    {{"axis", axis}, {"epsilon", static_cast<float>(ln.options.eps())}});
    return q_.output(block, out);
  }

  // Dropout is the identity in inference; its quantizers act on their own copy.
  std::string dropout(const std::string& block, const std::string& x) {
    return q_.output(block, q_.input(block, 0, x), block + ".output");
  }

  std::string linear(const std::string& block, const nn::LinearImpl& l, const std::string& x) {
    const std::string in = q_.input(block, 0, x);
    const std::string weight = q_.parameter(block, "weight", l.weight);
    const std::string transposed =
        g_.node("Transpose", {weight}, block + ".weight_transposed", 2, {{"perm", std::vector<int64_t>{1, 0}}});
    const int rank = g_.rank(x);
    if (!l.bias.defined()) return q_.output(block, g_.node("MatMul", {in, transposed}, block + ".output", rank));
    const std::string product = g_.node("MatMul", {in, transposed}, block + ".matmul", rank);
    const std::string bias = q_.parameter(block, "bias", l.bias);
    return q_.output(block, g_.node("Add", {product, bias}, block + ".output", rank));
  }

  std::string unary(const std::string& op, const std::string& block, const std::string& x,
                    const std::vector<Attribute>& attributes = {}) {
    const std::string in = q_.input(block, 0, x);
    return q_.output(block, g_.node(op, {in}, block + ".output", g_.rank(x), attributes));
  }

  // ATen's exact GELU, x·0.5·(1 + erf(x·√½)), in its order of float operations.
  std::string gelu(const std::string& block, const std::string& x) {
    const std::string in = q_.input(block, 0, x);
    const int rank = g_.rank(x);
    const std::string scaled =
        g_.node("Mul", {in, g_.scalar(block + ".sqrt_half", static_cast<float>(M_SQRT1_2))}, block + ".erf_input", rank);
    const std::string erf = g_.node("Erf", {scaled}, block + ".erf", rank);
    const std::string plus_one = g_.node("Add", {erf, g_.scalar(block + ".one", 1.0f)}, block + ".erf_plus_one", rank);
    const std::string half = g_.node("Mul", {in, g_.scalar(block + ".half", 0.5f)}, block + ".half_input", rank);
    return q_.output(block, g_.node("Mul", {half, plus_one}, block + ".output", rank));
  }

  // [B, L, H] → [B, A, L, d], or with `transposed` [B, A, d, L] (Kᵀ).
  std::string split_heads(const std::string& x, const std::string& name, bool transposed) {
    if (!g_.defined("bert.heads_shape")) {
      g_.ints("bert.heads_shape", {0, 0, config_.num_attention_heads, config_.head_size()});
    }
    const std::string view = g_.node("Reshape", {x, "bert.heads_shape"}, name + "_view", kHeads);
    const std::vector<int64_t> perm = transposed ? std::vector<int64_t>{0, 2, 3, 1} : std::vector<int64_t>{0, 2, 1, 3};
    return g_.node("Transpose", {view}, name, kHeads, {{"perm", perm}});
  }

  std::string merge_heads(const std::string& x, const std::string& name) {
    if (!g_.defined("bert.hidden_shape")) g_.ints("bert.hidden_shape", {0, 0, config_.hidden_size});
    const std::string back =
        g_.node("Transpose", {x}, name + "_transposed", kHeads, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
    return g_.node("Reshape", {back, "bert.hidden_shape"}, name, kTokens);
  }

  std::string self_attention(const std::string& p, const models::bert::BertSelfAttentionImpl& a,
                             const std::string& hidden, const std::string& key_mask) {
    const std::string q = split_heads(linear(p + ".query", *a.query, hidden), p + ".query_heads", false);
    const std::string k = split_heads(linear(p + ".key", *a.key, hidden), p + ".key_heads_transposed", true);
    const std::string v = split_heads(linear(p + ".value", *a.value, hidden), p + ".value_heads", false);
    const std::string scores = binary("MatMul", p + ".matmul_1", q, k, kHeads);
    const auto root = static_cast<float>(std::sqrt(static_cast<double>(config_.head_size())));
    const std::string scaled = g_.node("Div", {scores, g_.scalar(p + ".sqrt_head_size", root)}, p + ".scores_scaled", kHeads);
    // mask_add: its input 0 reads the scaled scores alone; input 1 is the mask,
    // an int64 tensor under zoo that the simulation never quantizes.
    const std::string x = q_.input(p + ".mask_add", 0, scaled, /*sole_reader=*/true);
    std::string y = key_mask;
    if (config_.attention_mask.mode == models::bert::MaskMode::zoo) {
      q_.integer_input(p + ".mask_add", 1);
    } else {
      y = q_.input(p + ".mask_add", 1, key_mask);
    }
    const std::string masked = q_.output(p + ".mask_add", g_.node("Add", {x, y}, p + ".mask_add.output", kHeads));
    const std::string probs =
        dropout(p + ".dropout", unary("Softmax", p + ".softmax", masked, {{"axis", a.softmax->options.dim()}}));
    const std::string context = binary("MatMul", p + ".matmul_2", probs, v, kHeads);
    return merge_heads(context, p + ".context");
  }

  // dense → dropout → add(·, residual) → LayerNorm (BertSelfOutput / BertOutput).
  std::string residual_output(const std::string& p, const models::bert::BertResidualOutputImpl& o,
                              const std::string& x, const std::string& residual) {
    const std::string dense = dropout(p + ".dropout", linear(p + ".dense", *o.dense, x));
    return layer_norm(p + ".LayerNorm", *o.LayerNorm, binary("Add", p + ".add", dense, residual, kTokens));
  }

  std::string layer(const std::string& p, const models::bert::BertLayerImpl& l, const std::string& hidden,
                    const std::string& key_mask) {
    const std::string context = self_attention(p + ".attention.self", *l.attention->self, hidden, key_mask);
    const std::string attended = residual_output(p + ".attention.output", *l.attention->output, context, hidden);
    const std::string dense = linear(p + ".intermediate.dense", *l.intermediate->dense, attended);
    const std::string act = gelu(p + ".intermediate.intermediate_act_fn", dense);
    return residual_output(p + ".output", *l.output, act, attended);
  }

  std::string embeddings(const std::string& ids, const std::string& types) {
    const models::bert::BertEmbeddingsImpl& e = *model_->bert->embeddings;
    const std::string p = "bert.embeddings";
    const std::string words = embedding(p + ".word_embeddings", *e.word_embeddings, ids);
    const std::string type_rows = embedding(p + ".token_type_embeddings", *e.token_type_embeddings, types);
    const std::string sum = binary("Add", p + ".add_1", words, type_rows, kTokens);
    const std::string positions = embedding(p + ".position_embeddings", *e.position_embeddings, position_ids());
    const std::string all = binary("Add", p + ".add_2", sum, positions, kTokens);
    return dropout(p + ".dropout", layer_norm(p + ".LayerNorm", *e.LayerNorm, all));
  }

  std::string pooler(const std::string& hidden) {
    const models::bert::BertPoolerImpl& pool = *model_->bert->pooler;
    const std::string first = g_.node("Gather", {hidden, g_.initializer("bert.pooler.first_index",
                                                                        at::scalar_tensor(0, at::kLong))},
                                      "bert.pooler.first_token", 2, {{"axis", int64_t{1}}});
    return unary("Tanh", "bert.pooler.activation", linear("bert.pooler.dense", *pool.dense, first));
  }

  std::string named_output(const std::string& x, const std::string& name, std::vector<Dim> dims) {
    g_.node("Identity", {x}, name, static_cast<int>(dims.size()));
    g_.output(name, TensorProto::FLOAT, dims);
    return name;
  }

  std::vector<std::string> heads(const std::string& hidden) {
    const std::vector<Dim> tokens = token_dims();
    switch (config_.head) {
      case models::bert::BertHead::sequence_classification: {
        const std::string pooled = dropout("dropout", pooler(hidden));
        return {named_output(linear("classifier", *model_->classifier, pooled), "logits",
                             {tokens[0], config_.num_labels})};
      }
      case models::bert::BertHead::question_answering:
        return span_logits(linear("qa_outputs", *model_->qa_outputs, hidden), tokens);
      case models::bert::BertHead::none:
        break;
    }
    std::vector<std::string> out{named_output(hidden, "last_hidden_state", {tokens[0], tokens[1], config_.hidden_size})};
    if (model_->bert->pooler) out.push_back(named_output(pooler(hidden), "pooler_output", {tokens[0], config_.hidden_size}));
    return out;
  }

  // qa_outputs' [B, L, 2] split into start and end logits [B, L] (functional, no quantizer).
  std::vector<std::string> span_logits(const std::string& logits, const std::vector<Dim>& tokens) {
    QSIM_CHECK(config_.num_labels == 2, ConfigError,
               "onnx export: a question-answering head needs 2 outputs (start, end), the model has {}",
               config_.num_labels);
    g_.nodes("Split", {logits, g_.ints("qa_outputs.split", {1, 1})}, {"qa_outputs.start", "qa_outputs.end"}, kTokens,
            {{"axis", int64_t{-1}}});
    const std::string axes = g_.ints("qa_outputs.squeeze_axes", {-1});
    std::vector<std::string> out;
    for (const auto& [part, name] : {std::pair{"qa_outputs.start", "start_logits"}, {"qa_outputs.end", "end_logits"}}) {
      g_.node("Squeeze", {part, axes}, name, 2);
      g_.output(name, TensorProto::FLOAT, {tokens[0], tokens[1]});
      out.emplace_back(name);
    }
    return out;
  }

  const models::bert::BertForTask& model_;
  const BertConfig& config_;
  GraphBuilder& g_;
  QuantizerSites& q_;
  const OnnxExportOptions& options_;
};

}  // namespace

std::vector<std::string> write_bert_graph(const models::bert::BertForTask& model, GraphBuilder& graph,
                                          QuantizerSites& sites, const OnnxExportOptions& options) {
  return BertWriter(model, graph, sites, options).write();
}

}  // namespace qsim::deploy::detail
