#include "qsim/models/bert/bert_for_task.hpp"

#include "qsim/models/bert/bert_init.hpp"

namespace qsim::models::bert {

BertForTaskImpl::BertForTaskImpl(const BertConfig& config_) : config(config_) { reset(); }

void BertForTaskImpl::reset() {
  config.validate();
  bert = register_module("bert", BertModel(config, config.head != BertHead::question_answering));
  dropout = nullptr;
  classifier = nullptr;
  qa_outputs = nullptr;
  switch (config.head) {
    case BertHead::none:
      break;
    case BertHead::sequence_classification:
      dropout = register_module("dropout",
                                nn::Dropout(config.classifier_dropout.value_or(config.hidden_dropout_prob)));
      classifier = register_module("classifier", nn::Linear(config.hidden_size, config.num_labels));
      break;
    case BertHead::question_answering:
      qa_outputs = register_module("qa_outputs", nn::Linear(config.hidden_size, config.num_labels));
      break;
  }
  // The encoder initialised itself; the heads are the rest.
  if (classifier) init_weights(*classifier, config.initializer_range);
  if (qa_outputs) init_weights(*qa_outputs, config.initializer_range);
}

BertTaskOutput BertForTaskImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                                        const torch::Tensor& attention_mask, const BertForwardOptions& options) {
  BertTaskOutput out;
  out.bert = bert(input_ids, token_type_ids, attention_mask, options);
  switch (config.head) {
    case BertHead::none:
      break;
    case BertHead::sequence_classification:
      out.logits = classifier(dropout(out.bert.pooler_output));
      break;
    case BertHead::question_answering: {
      // Functional split (no quantizer): start and end share qa_outputs' encoding.
      const torch::Tensor logits = qa_outputs(out.bert.last_hidden_state);  // [B, L, 2]
      out.start_logits = logits.select(-1, 0).contiguous();
      out.end_logits = logits.select(-1, 1).contiguous();
      break;
    }
  }
  return out;
}

}  // namespace qsim::models::bert
