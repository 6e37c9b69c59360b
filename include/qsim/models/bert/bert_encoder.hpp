#pragma once

// The stack of num_hidden_layers BertLayers, registered as a ModuleList named
// "layer" so that paths read encoder.layer.<i>.* as in Hugging Face.

#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/models/bert/bert_config.hpp"
#include "qsim/models/bert/bert_layer.hpp"

namespace qsim::models::bert {

class BertEncoderImpl : public torch::nn::Cloneable<BertEncoderImpl> {
 public:
  explicit BertEncoderImpl(const BertConfig& config);
  void reset() override;

  /// Runs every layer. When given, `hidden_states` receives each layer's output and
  /// `attentions` each layer's softmax output, in layer order.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& extended_mask,
                        std::vector<torch::Tensor>* hidden_states = nullptr,
                        std::vector<torch::Tensor>* attentions = nullptr);
  /// Runs every layer on the real tokens of `packed` ([1, T, H]; inference only,
  /// see BertModelImpl::skip_padding).
  torch::Tensor forward_packed(const torch::Tensor& hidden, const PackedSequences& packed);

  /// Layer `index` (0-based).
  BertLayer at(std::size_t index) const;

  BertConfig config;
  torch::nn::ModuleList layer{nullptr};
  /// Gradient checkpointing (Hugging Face's gradient_checkpointing): when training,
  /// keep only each layer's input and recompute the layer during backward — same
  /// values and gradients, peak activation memory of one layer, ~1 extra forward.
  bool gradient_checkpointing = false;
};
TORCH_MODULE(BertEncoder);

}  // namespace qsim::models::bert
