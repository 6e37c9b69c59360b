#pragma once

// Tiny BERT fixtures for the sim tests: the golden HF-layout models (sizes read
// from their config.json), their input batch, and random configurations.

#include <string>
#include <unordered_map>

#include <torch/torch.h>

#include "qsim/io/checkpoint.hpp"
#include "qsim/io/safetensors.hpp"
#include "qsim/models/bert/bert_for_task.hpp"
#include "support/paths.hpp"

namespace qsim::test {

inline std::string tiny_model_dir(const std::string& profile, const std::string& head) {
  return golden_dir() + "/bert_tiny_" + profile + "/models/" + head;
}

/// Copies every tensor of the checkpoint in `dir` that the model has into it.
inline void load_weights(models::bert::BertForTask& model, const std::string& dir) {
  std::unordered_map<std::string, at::Tensor> loaded;
  for (const auto& [name, tensor] : io::load_state_dict(dir)) loaded[name] = tensor;
  torch::NoGradGuard no_grad;
  for (auto& item : model->named_parameters()) {
    if (item.key().find("encoding_") != std::string::npos) continue;
    item.value().copy_(loaded.at(item.key()));
  }
}

inline models::bert::BertForTask load_tiny(const std::string& profile, const std::string& head,
                                           models::bert::AttentionMask mask = models::bert::AttentionMask::zoo()) {
  const std::string dir = tiny_model_dir(profile, head);
  models::bert::BertConfig config = models::bert::BertConfig::from_file(dir + "/config.json");
  config.attention_mask = mask;
  models::bert::BertForTask model(config);
  load_weights(model, dir);
  model->eval();
  return model;
}

struct Batch {
  torch::Tensor input_ids, token_type_ids, attention_mask;
};

inline Batch load_batch(const std::string& profile, const std::string& name = "batch_mask_zoo") {
  const io::SafetensorsFile file =
      io::load_safetensors(golden_dir() + "/bert_tiny_" + profile + "/io/" + name + ".safetensors");
  Batch batch;
  for (const auto& [key, tensor] : file.tensors) {
    if (key == "input_ids") batch.input_ids = tensor.clone();
    if (key == "token_type_ids") batch.token_type_ids = tensor.clone();
    if (key == "attention_mask") batch.attention_mask = tensor.clone();
  }
  return batch;
}

/// A random 2-layer BERT with the given head (sizes unrelated to the fixtures).
inline models::bert::BertForTask random_bert(models::bert::BertHead head, int64_t num_labels = 2) {
  models::bert::BertConfig config;
  config.vocab_size = 40;
  config.hidden_size = 24;
  config.num_hidden_layers = 2;
  config.num_attention_heads = 3;
  config.intermediate_size = 40;
  config.max_position_embeddings = 20;
  config.head = head;
  config.num_labels = num_labels;
  for (int64_t i = 0; i < num_labels; ++i) {
    config.id2label.push_back("LABEL_" + std::to_string(i));
    config.label2id[config.id2label.back()] = i;
  }
  config.attention_mask = models::bert::AttentionMask::zoo();
  torch::manual_seed(7);
  models::bert::BertForTask model(config);
  model->eval();
  return model;
}

inline Batch random_batch(const models::bert::BertConfig& config, int64_t batch = 3, int64_t length = 9) {
  torch::manual_seed(11);
  Batch b;
  b.input_ids = torch::randint(config.vocab_size, {batch, length}, torch::kLong);
  b.token_type_ids = torch::randint(2, {batch, length}, torch::kLong);
  b.attention_mask = torch::ones({batch, length}, torch::kLong);
  b.attention_mask.index_put_({1, torch::indexing::Slice(length - 3, torch::indexing::None)}, 0);
  return b;
}

}  // namespace qsim::test
