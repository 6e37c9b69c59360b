#include "qsim/sim/model_topology.hpp"

#include "detail/check.hpp"
#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/models/bert/bert_model.hpp"

namespace qsim::sim {
namespace {

using models::bert::BertForTaskImpl;
using models::bert::BertModelImpl;

void chain(ModelTopology& t, std::initializer_list<std::string> blocks) {
  const std::vector<std::string> list(blocks);
  for (std::size_t i = 0; i + 1 < list.size(); ++i) t.edges.push_back({list[i], list[i + 1]});
}

// Embeddings: word + token type → add_1, + position → add_2 → LayerNorm → dropout.
std::string add_embeddings(ModelTopology& t, const std::string& p) {
  const std::string e = p + "embeddings.";
  t.model_inputs = {e + "word_embeddings", e + "token_type_embeddings"};
  chain(t, {e + "word_embeddings", e + "add_1", e + "add_2", e + "LayerNorm", e + "dropout"});
  chain(t, {e + "token_type_embeddings", e + "add_1"});
  chain(t, {e + "position_embeddings", e + "add_2"});
  return e + "dropout";
}

// Residual block: dense → dropout → add → LayerNorm, the residual input also → add.
void add_residual(ModelTopology& t, const std::string& r, const std::string& residual) {
  chain(t, {r + "dense", r + "dropout", r + "add", r + "LayerNorm"});
  chain(t, {residual, r + "add"});
}

// One encoder layer; returns the path of its output block. Views, permutes and the
// functional `/ sqrt(d)` sit between the linear layers and the matmuls, so those
// are not block → block edges (as in AIMET's connected graph).
std::string add_layer(ModelTopology& t, const std::string& l, const std::string& input) {
  const std::string s = l + "attention.self.";
  for (const char* proj : {"query", "key", "value"}) chain(t, {input, s + proj});
  chain(t, {s + "mask_add", s + "softmax", s + "dropout", s + "matmul_2"});
  t.functional_ops.push_back({s + "(scores / sqrt(head_size))", "Div", {s + "matmul_1"}, {s + "mask_add"}});
  t.functional_ops.push_back({s + "(mask * value)", "Mul", {}, {s + "mask_add"}});
  t.mask_add_blocks.push_back(s + "mask_add");
  add_residual(t, l + "attention.output.", input);
  chain(t, {l + "attention.output.LayerNorm", l + "intermediate.dense", l + "intermediate.intermediate_act_fn",
            l + "output.dense"});
  add_residual(t, l + "output.", l + "attention.output.LayerNorm");
  return l + "output.LayerNorm";
}

// Returns the encoder's output block.
std::string add_bert(ModelTopology& t, const BertModelImpl& bert, const std::string& p) {
  std::string hidden = add_embeddings(t, p);
  for (int64_t i = 0; i < bert.config.num_hidden_layers; ++i) {
    hidden = add_layer(t, p + "encoder.layer." + std::to_string(i) + ".", hidden);
  }
  if (bert.pooler) chain(t, {p + "pooler.dense", p + "pooler.activation"});
  return hidden;
}

}  // namespace

ModelTopology bert_topology(const torch::nn::Module& model) {
  ModelTopology t;
  if (const auto* task = dynamic_cast<const BertForTaskImpl*>(&model)) {
    const std::string hidden = add_bert(t, *task->bert, "bert.");
    if (task->classifier) {
      chain(t, {"bert.pooler.activation", "dropout", "classifier"});
      t.model_outputs = {"classifier"};
    } else if (task->qa_outputs) {
      // The logits leave through a functional split, which AIMET's model_output
      // rule skips (it only configures modules): no model output block.
      chain(t, {hidden, "qa_outputs"});
    } else {
      t.model_outputs = {task->bert->pooler ? "bert.pooler.activation" : hidden};
    }
    return t;
  }
  if (const auto* bert = dynamic_cast<const BertModelImpl*>(&model)) {
    const std::string hidden = add_bert(t, *bert, "");
    t.model_outputs = {bert->pooler ? "pooler.activation" : hidden};
    return t;
  }
  throw ConfigError(fmt::format("bert_topology: model '{}' is not a qsim BertForTask or BertModel", model.name()));
}

ModelTopology infer_topology(const torch::nn::Module& model) {
  if (dynamic_cast<const BertForTaskImpl*>(&model) != nullptr || dynamic_cast<const BertModelImpl*>(&model) != nullptr) {
    return bert_topology(model);
  }
  return {};
}

}  // namespace qsim::sim
