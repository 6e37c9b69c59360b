#include "task_eval.hpp"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <torch/torch.h>

#include "detail/check.hpp"
#include "qsim/log.hpp"
#include "qsim/tasks/glue_metrics.hpp"
#include "qsim/tasks/glue_reader.hpp"
#include "qsim/tasks/squad_metrics.hpp"
#include "qsim/tasks/squad_predictions.hpp"
#include "qsim/tasks/squad_reader.hpp"
#include "qsim/train/task_data.hpp"

namespace qsim::examples {
namespace fs = std::filesystem;
namespace {

constexpr const char* kGlueHint =
    "download GLUE with the standard download_glue_data.py (or the Hugging Face 'glue' dataset exported to the "
    "original TSV layout) into <data_dir>/glue, or point --data_dir / QSIM_DATA_DIR at a copy";
constexpr const char* kSquadHint =
    "download dev-v1.1.json (or .json.zip) from rajpurkar.github.io/SQuAD-explorer into <data_dir>/squad, or "
    "point --data_dir / QSIM_DATA_DIR at a copy";

std::string require_glue_file(const std::string& data_dir, tasks::GlueTask task, tasks::GlueSplit split) {
  const fs::path path = fs::path(data_dir) / "glue" / std::string(tasks::glue_task_dir(task)) /
                        tasks::glue_split_file(task, split);
  QSIM_CHECK(fs::is_regular_file(path), IoError, "{}: GLUE {} {} file missing: {}", path.string(),
             tasks::glue_task_name(task), split == tasks::GlueSplit::train ? "train" : "dev", kGlueHint);
  return path.string();
}

std::string require_squad_file(const std::string& data_dir, const char* stem) {
  for (const char* suffix : {".json", ".json.zip"}) {
    const fs::path path = fs::path(data_dir) / "squad" / (std::string(stem) + suffix);
    if (fs::is_regular_file(path)) return path.string();
  }
  throw IoError(fmt::format("{}/squad/{}.json: SQuAD file missing (also no .json.zip): {}", data_dir, stem,
                            kSquadHint));
}

template <typename T>
void keep_first(std::vector<T>& rows, int64_t max_samples) {
  if (max_samples > 0 && static_cast<int64_t>(rows.size()) > max_samples) rows.resize(static_cast<size_t>(max_samples));
}

tasks::SquadFeatureOptions squad_options(const ModelCard& card, bool training) {
  tasks::SquadFeatureOptions options;
  options.max_seq_length = card.max_seq_length;
  options.doc_stride = card.doc_stride;
  options.max_query_length = card.max_query_length;
  options.is_training = training;
  return options;
}

EvalSplit glue_split(const std::string& name, tasks::GlueTask task, const std::string& data_dir,
                     const text::BertTokenizer& tokenizer, const ModelCard& card,
                     const std::optional<tasks::LabelMap>& label2id, int64_t max_samples) {
  std::vector<tasks::GlueExample> rows =
      tasks::read_glue_tsv(task, require_glue_file(data_dir, task, tasks::GlueSplit::dev), label2id);
  keep_first(rows, max_samples);
  EvalSplit split;
  split.name = name;
  split.glue = task;
  split.data = train::encode_glue(rows, tokenizer, card.max_seq_length, tasks::is_regression(task));
  logger()->info("data: {} dev: {} examples", name, split.data.size());
  return split;
}

Scores percent(const tasks::GlueMetrics& metrics) {
  Scores out;
  for (const auto& [key, value] : metrics) out[key] = 100.0 * value;
  return out;
}

std::vector<double> to_doubles(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

Scores score_squad(const EvalSplit& split, const train::Predictions& predictions, const text::Vocab& vocab) {
  std::vector<tasks::SquadResult> results;
  const int64_t n = static_cast<int64_t>(split.squad_features.size());
  QSIM_CHECK(predictions.start_logits.defined() && predictions.start_logits.size(0) == n, ValueError,
             "squad: expected start/end logits for {} features", n);
  const torch::Tensor starts = predictions.start_logits.to(torch::kFloat).contiguous();
  const torch::Tensor ends = predictions.end_logits.to(torch::kFloat).contiguous();
  const int64_t length = starts.size(1);
  for (int64_t i = 0; i < n; ++i) {
    tasks::SquadResult r;
    r.unique_id = split.squad_features[static_cast<size_t>(i)].unique_id;
    r.start_logits.assign(starts.data_ptr<float>() + i * length, starts.data_ptr<float>() + (i + 1) * length);
    r.end_logits.assign(ends.data_ptr<float>() + i * length, ends.data_ptr<float>() + (i + 1) * length);
    results.push_back(std::move(r));
  }
  const auto predicted = tasks::squad_predictions(split.squad_examples, split.squad_features, results, vocab);
  std::map<std::string, std::string> answers;
  for (const auto& p : predicted) answers[p.qas_id] = p.text;
  const tasks::SquadScores scores = tasks::evaluate_squad(split.squad_examples, answers);
  return {{"exact_match", scores.exact_match}, {"squad_f1", scores.f1}};
}

}  // namespace

std::string resolve_data_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("QSIM_DATA_DIR");
  if (env != nullptr && *env != '\0') return env;
  return "../shared/data";
}

std::string resolve_vocab(const std::string& model_dir, const std::string& data_dir) {
  if (!model_dir.empty() && fs::is_regular_file(fs::path(model_dir) / "vocab.txt"))
    return (fs::path(model_dir) / "vocab.txt").string();
  const fs::path shared = fs::path(data_dir) / "vocab" / "bert-base-uncased-vocab.txt";
  QSIM_CHECK(fs::is_regular_file(shared), IoError,
             "{}: vocab missing (and no vocab.txt in the model directory): copy bert-base-uncased's vocab.txt "
             "there, or point --data_dir / QSIM_DATA_DIR at a data root with vocab/bert-base-uncased-vocab.txt",
             shared.string());
  return shared.string();
}

tasks::GlueTask glue_task_of(const std::string& task) { return tasks::parse_glue_task(task); }

int64_t num_labels_of(const ModelCard& card) {
  return card.is_squad() ? 2 : tasks::glue_num_labels(glue_task_of(card.task));
}

std::vector<EvalSplit> load_dev_splits(const ModelCard& card, const std::string& data_dir,
                                       const text::BertTokenizer& tokenizer,
                                       const std::optional<tasks::LabelMap>& label2id, int64_t max_samples) {
  std::vector<EvalSplit> splits;
  if (card.is_squad()) {
    EvalSplit split;
    split.name = "squad";
    tasks::SquadDataset dataset = tasks::read_squad(require_squad_file(data_dir, "dev-v1.1"));
    split.squad_examples = std::move(dataset.examples);
    keep_first(split.squad_examples, max_samples);
    split.squad_features = tasks::convert_squad_examples(split.squad_examples, tokenizer, squad_options(card, false));
    split.data = train::encode_squad(split.squad_features, false);
    logger()->info("data: squad dev: {} questions, {} features", split.squad_examples.size(), split.data.size());
    splits.push_back(std::move(split));
    return splits;
  }
  const tasks::GlueTask task = glue_task_of(card.task);
  if (task == tasks::GlueTask::mnli) {
    splits.push_back(glue_split("mnli-m", tasks::GlueTask::mnli, data_dir, tokenizer, card, label2id, max_samples));
    splits.push_back(glue_split("mnli-mm", tasks::GlueTask::mnli_mismatched, data_dir, tokenizer, card, label2id,
                                max_samples));
  } else {
    splits.push_back(glue_split(std::string(tasks::glue_task_name(task)), task, data_dir, tokenizer, card, label2id,
                                max_samples));
  }
  return splits;
}

train::TaskDataset load_train_split(const ModelCard& card, const std::string& data_dir,
                                    const text::BertTokenizer& tokenizer,
                                    const std::optional<tasks::LabelMap>& label2id, int64_t max_samples) {
  if (card.is_squad()) {
    tasks::SquadDataset dataset = tasks::read_squad(require_squad_file(data_dir, "train-v1.1"));
    keep_first(dataset.examples, max_samples);
    return train::encode_squad(tasks::convert_squad_examples(dataset.examples, tokenizer, squad_options(card, true)),
                               true);
  }
  const tasks::GlueTask task = glue_task_of(card.task);
  std::vector<tasks::GlueExample> rows =
      tasks::read_glue_tsv(task, require_glue_file(data_dir, task, tasks::GlueSplit::train), label2id);
  keep_first(rows, max_samples);
  logger()->info("data: {} train: {} examples", card.task, rows.size());
  return train::encode_glue(rows, tokenizer, card.max_seq_length, tasks::is_regression(task));
}

Scores score_predictions(const EvalSplit& split, const train::Predictions& predictions, const text::Vocab& vocab) {
  if (!split.glue) return score_squad(split, predictions, vocab);
  const tasks::GlueTask task = *split.glue;
  QSIM_CHECK(predictions.logits.defined() && predictions.logits.size(0) == split.data.size(), ValueError,
             "{}: expected logits for {} examples", split.name, split.data.size());
  if (tasks::is_regression(task)) {
    return percent(tasks::glue_compute_metrics(task, to_doubles(predictions.logits.select(1, 0)),
                                               to_doubles(split.data.labels)));
  }
  const torch::Tensor labels = split.data.labels.contiguous();
  const std::vector<int64_t> truth(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel());
  const auto predicted = tasks::argmax_rows(to_doubles(predictions.logits), predictions.logits.size(1));
  return percent(tasks::glue_compute_metrics(task, predicted, truth));
}

Scores evaluate_split(models::bert::BertForTask& model, const EvalSplit& split, const text::Vocab& vocab,
                      const train::PredictOptions& options) {
  return score_predictions(split, train::predict(model, split.data, options), vocab);
}

double headline(const ModelCard& card, const Scores& scores) {
  const auto it = scores.find(card.metric);
  QSIM_CHECK(it != scores.end(), ConfigError, "model card '{}': metric '{}' is not among the task's metrics",
             card.name, card.metric);
  return it->second;
}

}  // namespace qsim::examples
