#pragma once

// The data side of bert_eval / bert_train / bert_demo: finding a task's files under
// the data root (with one-line errors that say how to get what is missing),
// encoding them once into train::TaskDataset, and scoring a model's predictions
// with the task's metrics (GLUE: Hugging Face's glue_compute_metrics; SQuAD: the
// run_squad.py post-processing and the official v1.1 evaluation).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model_card.hpp"
#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/tasks/glue_task.hpp"
#include "qsim/tasks/label_map.hpp"
#include "qsim/tasks/squad_example.hpp"
#include "qsim/tasks/squad_features.hpp"
#include "qsim/text/bert_tokenizer.hpp"
#include "qsim/train/predict.hpp"
#include "qsim/train/task_dataset.hpp"

namespace qsim::examples {

/// Metric name → value in percent (e.g. {"acc": 84.1, "f1": 88.0}).
using Scores = std::map<std::string, double>;

/// One evaluation set: a GLUE dev file (MNLI has two) or SQuAD dev.
struct EvalSplit {
  std::string name;  ///< "rte", "mnli-m", "mnli-mm", "squad"
  std::optional<tasks::GlueTask> glue;
  train::TaskDataset data;
  std::vector<tasks::SquadExample> squad_examples;
  std::vector<tasks::SquadFeature> squad_features;
};

/// The data root: `flag` when set, else $QSIM_DATA_DIR, else ../shared/data.
std::string resolve_data_dir(const std::string& flag);
/// The vocab: `model_dir`/vocab.txt when present, else <data>/vocab/bert-base-uncased-vocab.txt.
/// Throws IoError naming both places when neither exists.
std::string resolve_vocab(const std::string& model_dir, const std::string& data_dir);

/// The GLUE task of a card's task name ("sst2" → sst2); mnli means matched.
tasks::GlueTask glue_task_of(const std::string& task);
/// The number of model outputs the card's task needs (SQuAD: 2, start and end).
int64_t num_labels_of(const ModelCard& card);

/// The dev set(s) of the card's task, the first max_samples rows each (all when <= 0).
std::vector<EvalSplit> load_dev_splits(const ModelCard& card, const std::string& data_dir,
                                       const text::BertTokenizer& tokenizer,
                                       const std::optional<tasks::LabelMap>& label2id, int64_t max_samples);
/// The train split (for calibration and QAT), with training targets.
train::TaskDataset load_train_split(const ModelCard& card, const std::string& data_dir,
                                    const text::BertTokenizer& tokenizer,
                                    const std::optional<tasks::LabelMap>& label2id, int64_t max_samples);

/// Task metrics of raw predictions (GLUE: logits [N, num_labels]; SQuAD: start/end).
Scores score_predictions(const EvalSplit& split, const train::Predictions& predictions,
                         const text::Vocab& vocab);
/// predict + score_predictions.
Scores evaluate_split(models::bert::BertForTask& model, const EvalSplit& split, const text::Vocab& vocab,
                      const train::PredictOptions& options);
/// The card's table number from a split's scores.
double headline(const ModelCard& card, const Scores& scores);

}  // namespace qsim::examples
