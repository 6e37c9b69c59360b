#include "eval_model.hpp"

#include "detail/check.hpp"
#include "task_eval.hpp"

namespace qsim::examples {

models::bert::AttentionMask resolve_mask(const ModelCard& card, const std::string& flag) {
  return models::bert::AttentionMask::parse(flag.empty() || flag == "card" ? card.attention_mask : flag);
}

void check_fits_task(const models::bert::BertConfig& config, const ModelCard& card, const std::string& origin) {
  const auto wanted = card.is_squad() ? models::bert::BertHead::question_answering
                                      : models::bert::BertHead::sequence_classification;
  QSIM_CHECK(config.head == wanted, ConfigError,
             "{}: the checkpoint is a {}, task {} needs a {} (pass a checkpoint fine-tuned on {}; {})", origin,
             models::bert::to_string(config.head), card.task, models::bert::to_string(wanted), card.task,
             card.checkpoint_hint);
  const int64_t labels = num_labels_of(card);
  QSIM_CHECK(config.num_labels == labels, ConfigError,
             "{}: num_labels is {}, task {} needs {}: the checkpoint was fine-tuned for another task ({})", origin,
             config.num_labels, card.task, labels, card.checkpoint_hint);
}

sim::SimOptions card_sim_options(const ModelCard& card) {
  return sim::SimOptions()
      .scheme(sim::parse_quant_scheme(card.quant_scheme))
      .param_bitwidth(card.param_bitwidth)
      .output_bitwidth(card.output_bitwidth);
}

}  // namespace qsim::examples
