#pragma once

// Loading the model a model card is evaluated with, and checking that it fits the
// card's task (head and label count), with errors that say what to do instead.

#include <string>

#include "model_card.hpp"
#include "qsim/models/bert/attention_mask.hpp"
#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/sim/quant_sim.hpp"

namespace qsim::examples {

/// The card's mask unless `flag` ("card", "zoo", "hf" or a number) overrides it.
models::bert::AttentionMask resolve_mask(const ModelCard& card, const std::string& flag);

/// Throws qsim::ConfigError naming `origin` when the model's head or num_labels
/// does not fit the card's task (a checkpoint fine-tuned for another task).
void check_fits_task(const models::bert::BertConfig& config, const ModelCard& card, const std::string& origin);

/// SimOptions of the card (scheme, bitwidths).
sim::SimOptions card_sim_options(const ModelCard& card);

}  // namespace qsim::examples
