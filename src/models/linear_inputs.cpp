#include "qsim/models/bert/linear_inputs.hpp"

namespace qsim::models::bert {
namespace {

// The first enabled candidate, provided every candidate before it is an identity
// in inference (a dropout); null otherwise.
quant::QuantizerNode first_enabled(const std::vector<std::pair<quant::QuantizerNode, bool>>& chain) {
  for (const auto& [node, identity_when_off] : chain) {
    if (node && node->enabled()) return node;
    if (!identity_when_off) break;
  }
  return quant::QuantizerNode(nullptr);
}

LinearInput entry(std::string name, const nn::Linear& linear,
                  std::vector<std::pair<quant::QuantizerNode, bool>> producers) {
  std::vector<std::pair<quant::QuantizerNode, bool>> chain{{linear->input_quantizer(0), true}};
  chain.insert(chain.end(), producers.begin(), producers.end());
  return {std::move(name), linear, first_enabled(chain)};
}

}  // namespace

std::vector<LinearInput> linear_inputs(BertForTask& model) {
  std::vector<LinearInput> out;
  BertModelImpl& bert = *model->bert;
  // The hidden state entering layer i: the embeddings' dropout (identity) then LayerNorm,
  // or the previous layer's output LayerNorm.
  std::vector<std::pair<quant::QuantizerNode, bool>> hidden{
      {bert.embeddings->dropout->output_quantizer, true}, {bert.embeddings->LayerNorm->output_quantizer, false}};
  const auto layers = bert.encoder->layer->size();
  for (std::size_t i = 0; i < layers; ++i) {
    BertLayerImpl& layer = *bert.encoder->at(i);
    const std::string prefix = "bert.encoder.layer." + std::to_string(i) + ".";
    BertSelfAttentionImpl& self = *layer.attention->self;
    for (const auto& [name, linear] : {std::pair<const char*, nn::Linear>{"query", self.query},
                                       {"key", self.key},
                                       {"value", self.value}}) {
      out.push_back(entry(prefix + "attention.self." + name, linear, hidden));
    }
    out.push_back(entry(prefix + "attention.output.dense", layer.attention->output->dense,
                        {{self.matmul_2->output_quantizer, false}}));
    out.push_back(entry(prefix + "intermediate.dense", layer.intermediate->dense,
                        {{layer.attention->output->LayerNorm->output_quantizer, false}}));
    out.push_back(entry(prefix + "output.dense", layer.output->dense,
                        {{layer.intermediate->intermediate_act_fn->output_quantizer, false}}));
    hidden = {{layer.output->LayerNorm->output_quantizer, false}};
  }
  if (bert.pooler) {
    out.push_back(entry("bert.pooler.dense", bert.pooler->dense, hidden));  // the [CLS] row: a view
  }
  if (model->classifier) {
    out.push_back(entry("classifier", model->classifier,
                        {{model->dropout->output_quantizer, true}, {bert.pooler->activation->output_quantizer, false}}));
  }
  if (model->qa_outputs) out.push_back(entry("qa_outputs", model->qa_outputs, hidden));
  return out;
}

}  // namespace qsim::models::bert
