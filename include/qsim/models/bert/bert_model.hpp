#pragma once

// BertModel: embeddings → encoder → optional pooler, Hugging Face's BertModel built
// from quantizable blocks. FP32 is this graph with every quantizer disabled (the
// default); QuantSim enables slots in place, never building a second model.

#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/models/bert/bert_config.hpp"
#include "qsim/models/bert/bert_embeddings.hpp"
#include "qsim/models/bert/bert_encoder.hpp"
#include "qsim/models/bert/bert_pooler.hpp"

namespace qsim::models::bert {

/// What a forward pass should also return (HF's output_hidden_states/_attentions).
struct BertForwardOptions {
  /// Fill BertModelOutput::hidden_states.
  bool hidden_states = false;
  /// Fill BertModelOutput::attentions.
  bool attentions = false;
};

struct BertModelOutput {
  torch::Tensor last_hidden_state;  ///< [B, L, H]
  torch::Tensor pooler_output;      ///< [B, H]; undefined without a pooler
  /// Embedding output then each layer's output (num_hidden_layers + 1 tensors), when asked.
  std::vector<torch::Tensor> hidden_states;
  /// Each layer's attention probabilities [B, A, L, L] (softmax output), when asked.
  std::vector<torch::Tensor> attentions;
};

class BertModelImpl : public torch::nn::Cloneable<BertModelImpl> {
 public:
  explicit BertModelImpl(const BertConfig& config, bool add_pooling_layer = true);
  void reset() override;

  /// input_ids: integer [B, L] with ids in [0, vocab_size), L ≤ max_position_embeddings;
  /// token_type_ids (default zeros) and attention_mask (default ones, 1 = attend):
  /// [B, L]. Throws qsim::ValueError naming the tensor when a shape, dtype or id is bad.
  BertModelOutput forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids = {},
                          const torch::Tensor& attention_mask = {}, const BertForwardOptions& options = {});

  /// Switches every self-attention to `mask` (config.attention_mask everywhere).
  void set_attention_mask(const AttentionMask& mask);

  BertConfig config;
  bool add_pooling_layer;
  /// Skip the padding's work (an explicit deviation from the padded graph, off by
  /// default): the encoder runs on the real tokens only (PackedSequences) and each
  /// sequence attends over its own tokens, as PyTorch's nested-tensor fast path.
  /// Real tokens' outputs equal the padded graph's up to float summation order
  /// (padded keys get exactly zero weight under the hf mask); last_hidden_state is
  /// zero at padded positions. It applies to FP32 inference only: the padded graph
  /// runs under autograd, when hidden states or attentions are asked for, when any
  /// quantizer of the encoder is enabled (calibration and encodings are defined over
  /// the padded graph), when the mask is not 0/1, when some sequence's first token
  /// is padding (the pooler reads it), or when nothing is padded. With the zoo or a
  /// custom mask, padded keys keep a weight, so forward throws qsim::ConfigError.
  bool skip_padding = false;
  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  BertPooler pooler{nullptr};  ///< null when add_pooling_layer is false
};
TORCH_MODULE(BertModel);

/// The validation BertModel::forward does; the returned tensors are int64 ids and
/// types (zeros when absent) and a mask (ones when absent).
struct BertInputs {
  torch::Tensor input_ids;
  torch::Tensor token_type_ids;
  torch::Tensor attention_mask;
};
BertInputs validate_inputs(const BertConfig& config, const torch::Tensor& input_ids,
                           const torch::Tensor& token_type_ids, const torch::Tensor& attention_mask);

}  // namespace qsim::models::bert
