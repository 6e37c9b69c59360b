#pragma once

// BertForTask: BertModel plus the head config.head names, under Hugging Face's
// module paths, so one class loads any supported checkpoint:
//   none                     bert.*                      (pooler kept)
//   sequence_classification  bert.* → dropout → classifier   (any num_labels; STS-B
//                            regression is num_labels = 1, the same graph)
//   question_answering       bert.* (no pooler) → qa_outputs, split into start/end
// Every block is a qsim::nn block, so each quantizer of quantization-semantics.md §7.5
// exists at e.g. bert.encoder.layer.3.attention.self.matmul_1.output_quantizer.

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/models/bert/bert_config.hpp"
#include "qsim/models/bert/bert_model.hpp"
#include "qsim/nn/dropout.hpp"
#include "qsim/nn/linear.hpp"

namespace qsim::models::bert {

struct BertTaskOutput {
  BertModelOutput bert;        ///< last_hidden_state, pooler_output (undefined for QA), ...
  torch::Tensor logits;        ///< sequence classification: [B, num_labels]
  torch::Tensor start_logits;  ///< question answering: [B, L]
  torch::Tensor end_logits;    ///< question answering: [B, L]
};

/// Example:
///   BertForTask model(BertConfig::from_file("dir/config.json"));
///   model->eval();
///   auto out = model(input_ids, token_type_ids, attention_mask);
class BertForTaskImpl : public torch::nn::Cloneable<BertForTaskImpl> {
 public:
  explicit BertForTaskImpl(const BertConfig& config);
  void reset() override;

  /// See BertModelImpl::forward for the inputs and the errors.
  BertTaskOutput forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids = {},
                         const torch::Tensor& attention_mask = {}, const BertForwardOptions& options = {});

  BertConfig config;
  BertModel bert{nullptr};
  nn::Dropout dropout{nullptr};      ///< sequence classification only
  nn::Linear classifier{nullptr};    ///< sequence classification only
  nn::Linear qa_outputs{nullptr};    ///< question answering only
};
TORCH_MODULE(BertForTask);

}  // namespace qsim::models::bert
