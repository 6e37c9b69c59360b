// bert_train: fine-tunes BERT in FP32 on a GLUE task or SQuAD v1.1 and saves a
// Hugging Face checkpoint (config.json + model.safetensors) that bert_eval reads.
// Start from a Hugging Face checkpoint (--model_dir, e.g. bert-base-uncased; its
// head is replaced by a fresh one for the task) or from a random init of a config
// (--config_json). Defaults follow Hugging Face run_glue / run_squad.
//
//   bert_train --task rte --model_dir bert-base-uncased --output_dir rte_fp32
//              --epochs 3 --learning_rate 2e-5 --batch_size 32 --device cuda
#include <exception>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include "detail/check.hpp"
#include "model_card.hpp"
#include "qsim/error.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/log.hpp"
#include "qsim/models/bert/bert_checkpoint.hpp"
#include "qsim/train/trainer.hpp"
#include "task_eval.hpp"
#include "device_flag.hpp"
#include "tool_errors.hpp"

namespace {

using namespace qsim;

struct TrainFlags {
  std::string task;
  std::string model_dir;
  std::string config_json;
  std::string output_dir;
  std::string data_dir;
  std::string model_card_dir;
  int64_t epochs = 3;
  int64_t max_steps = 0;
  int64_t batch_size = 32;
  double learning_rate = 2e-5;
  double warmup_ratio = 0.0;
  double weight_decay = 0.0;
  double dropout = 0.1;
  int64_t max_train_samples = 0;
  int64_t checkpoint_every = 0;
  uint64_t seed = 42;
  int threads = 0;
  std::string device = "cpu";
  bool evaluate = true;
  bool gradient_checkpointing = false;
};

// The base model: the HF checkpoint's encoder with a fresh head for the task, or a random init.
models::bert::BertForTask make_model(const TrainFlags& f, const examples::ModelCard& card) {
  nlohmann::json json = io::read_json_file(f.model_dir.empty() ? f.config_json : f.model_dir + "/config.json");
  json["architectures"] = {card.is_squad() ? "BertForQuestionAnswering" : "BertForSequenceClassification"};
  json["num_labels"] = examples::num_labels_of(card);
  json.erase("id2label");
  json.erase("label2id");
  if (!card.is_squad() && tasks::is_regression(examples::glue_task_of(card.task))) json["problem_type"] = "regression";
  auto config = models::bert::BertConfig::from_json(json, f.model_dir.empty() ? f.config_json : f.model_dir);
  config.attention_mask = models::bert::AttentionMask::parse(card.attention_mask);
  torch::manual_seed(f.seed);
  models::bert::BertForTask model(config);
  if (!f.model_dir.empty()) {
    // Encoder weights from the checkpoint (a BertModel / pretraining checkpoint's
    // extra heads are ignored); the task head keeps its fresh initialisation.
    const io::TensorList state = io::load_state_dict(f.model_dir);
    io::TensorList encoder;
    for (const auto& [name, tensor] : state) {
      const std::string key = name.rfind("bert.", 0) == 0 ? name.substr(5) : name;
      const bool head = key.rfind("cls.", 0) == 0 || key.rfind("classifier.", 0) == 0 || key.rfind("qa_outputs.", 0) == 0;
      const bool unused_pooler = card.is_squad() && key.rfind("pooler.", 0) == 0;
      if (!head && !unused_pooler) encoder.emplace_back(key, tensor);
    }
    models::bert::load_hf_state_dict(*model->bert, encoder, io::find_weights_file(f.model_dir));
  }
  return model;
}

int run(const TrainFlags& f) {
  QSIM_CHECK(f.model_dir.empty() != f.config_json.empty(), ConfigError,
             "pass exactly one of --model_dir (a Hugging Face checkpoint) or --config_json (random init)");
  if (f.threads > 0) at::set_num_threads(f.threads);
  const torch::Device device = examples::parse_device_flag(f.device);
  const examples::ModelCard card = examples::load_model_card(
      "bert_w8a8_" + f.task, f.model_card_dir.empty() ? examples::default_model_card_dir() : f.model_card_dir);
  const std::string data_dir = examples::resolve_data_dir(f.data_dir);
  const auto tokenizer = text::BertTokenizer::from_file(examples::resolve_vocab(f.model_dir, data_dir));
  models::bert::BertForTask model = make_model(f, card);
  model->to(device);
  const train::TaskDataset data = examples::load_train_split(card, data_dir, tokenizer, std::nullopt, f.max_train_samples);
  // The trainer runs on the data's device: move the dataset once.
  const train::TaskDataset on_device = data.to(device);
  train::Trainer trainer(model, train::TrainOptions()
                                    .learning_rate(f.learning_rate)
                                    .warmup_ratio(f.warmup_ratio)
                                    .weight_decay(f.weight_decay)
                                    .dropout(f.dropout)
                                    .batch_size(f.batch_size)
                                    .epochs(f.epochs)
                                    .max_steps(f.max_steps)
                                    .seed(f.seed)
                                    .checkpoint_every(f.checkpoint_every)
                                    .checkpoint_dir(f.checkpoint_every > 0 ? f.output_dir + "/training_state" : "")
                                    .log_every(50)
                                    .gradient_checkpointing(f.gradient_checkpointing));
  if (train::checkpoint_exists(f.output_dir + "/training_state")) trainer.load_checkpoint(f.output_dir + "/training_state");
  trainer.train(on_device);
  model->to(torch::kCPU);
  models::bert::save_pretrained(*model, f.output_dir);
  std::filesystem::copy_file(examples::resolve_vocab(f.model_dir, data_dir), f.output_dir + "/vocab.txt",
                             std::filesystem::copy_options::overwrite_existing);
  logger()->info("bert_train: saved {}", f.output_dir);
  if (f.evaluate) {
    std::optional<tasks::LabelMap> label2id;
    if (!model->config.label2id.empty()) label2id = model->config.label2id;
    for (const auto& split : examples::load_dev_splits(card, data_dir, tokenizer, label2id, 0)) {
      train::PredictOptions options;
      options.batch_size = 32;
      const auto scores = examples::evaluate_split(model, split, tokenizer.vocab(), options);
      fmt::print("{} dev: {}\n", split.name, nlohmann::json(scores).dump());
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bert_train: FP32 fine-tuning of BERT on a GLUE task or SQuAD, saved as a Hugging Face checkpoint"};
  TrainFlags f;
  app.add_option("--task", f.task, "cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte or squad")->required();
  app.add_option("--model_dir", f.model_dir, "Hugging Face checkpoint to start from (e.g. bert-base-uncased)");
  app.add_option("--config_json", f.config_json, "BERT config.json to initialise randomly instead");
  app.add_option("--output_dir", f.output_dir, "where config.json, model.safetensors and vocab.txt are written")->required();
  app.add_option("--data_dir", f.data_dir, "data root (default: $QSIM_DATA_DIR, ../shared/data)");
  app.add_option("--model_card_dir", f.model_card_dir, "model cards (sequence lengths, mask mode)");
  app.add_option("--epochs", f.epochs, "training epochs");
  app.add_option("--max_steps", f.max_steps, "stop after N steps (0 = epochs decide)");
  app.add_option("--batch_size", f.batch_size, "training batch size");
  app.add_option("--learning_rate", f.learning_rate, "AdamW peak learning rate");
  app.add_option("--warmup_ratio", f.warmup_ratio, "fraction of steps of linear warm-up");
  app.add_option("--weight_decay", f.weight_decay, "AdamW weight decay");
  app.add_option("--dropout", f.dropout, "dropout probability of every dropout block");
  app.add_option("--max_train_samples", f.max_train_samples, "use the first N train examples (0 = all)");
  app.add_option("--checkpoint_every", f.checkpoint_every, "save resumable training state every N steps (0 = never)");
  app.add_option("--seed", f.seed, "seed of initialisation, shuffling and dropout");
  app.add_option("--threads", f.threads, "CPU threads (0 = LibTorch's default)");
  app.add_option("--device", f.device, "cpu or cuda");
  app.add_flag("--gradient_checkpointing", f.gradient_checkpointing, "recompute each layer in backward (less memory, ~1 extra forward)");
  app.add_flag("!--no_eval", f.evaluate, "skip the dev evaluation after training");
  CLI11_PARSE(app, argc, argv);
  return qsim::examples::run_reporting_errors("bert_train", [&] { return run(f); });
}
