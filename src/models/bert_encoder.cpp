#include "qsim/models/bert/bert_encoder.hpp"

#include "detail/check.hpp"
#include "models/layer_checkpoint.hpp"

namespace qsim::models::bert {

BertEncoderImpl::BertEncoderImpl(const BertConfig& config_) : config(config_) { reset(); }

void BertEncoderImpl::reset() {
  torch::nn::ModuleList layers;
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) layers->push_back(BertLayer(config));
  layer = register_module("layer", layers);
}

BertLayer BertEncoderImpl::at(std::size_t index) const {
  QSIM_CHECK(index < layer->size(), ValueError, "encoder: layer {} out of range, model has {} layers", index,
             layer->size());
  return BertLayer(layer->ptr<BertLayerImpl>(index));
}

torch::Tensor BertEncoderImpl::forward(const torch::Tensor& hidden, const torch::Tensor& extended_mask,
                                       std::vector<torch::Tensor>* hidden_states,
                                       std::vector<torch::Tensor>* attentions) {
  // Checkpointing only where a backward will follow and no intermediate is asked for.
  const bool checkpoint = gradient_checkpointing && torch::GradMode::is_enabled() && hidden_states == nullptr &&
                          attentions == nullptr;
  torch::Tensor x = hidden;
  for (std::size_t i = 0; i < layer->size(); ++i) {
    torch::Tensor probs;
    auto* block = layer->begin()[static_cast<std::ptrdiff_t>(i)]->as<BertLayerImpl>();
    if (checkpoint) {
      x = detail::checkpointed_layer(*block, x, extended_mask);
      continue;
    }
    x = block->forward(x, extended_mask, attentions != nullptr ? &probs : nullptr);
    if (hidden_states != nullptr) hidden_states->push_back(x);
    if (attentions != nullptr) attentions->push_back(probs);
  }
  return x;
}

torch::Tensor BertEncoderImpl::forward_packed(const torch::Tensor& hidden, const PackedSequences& packed) {
  torch::Tensor x = hidden;
  for (const auto& block : *layer) x = block->as<BertLayerImpl>()->forward_packed(x, packed);
  return x;
}

}  // namespace qsim::models::bert
