#include "eval_rows.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/log.hpp"

namespace qsim::examples {

SplitScores evaluate_all(models::bert::BertForTask& model, const std::vector<EvalSplit>& splits,
                         const text::Vocab& vocab, const train::PredictOptions& options, const train::World& world,
                         const std::string& label, io::TensorList* logits) {
  SplitScores out;
  std::string prefix = label;
  std::transform(prefix.begin(), prefix.end(), prefix.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& split : splits) {
    logger()->info("eval: {} on {} ({} inputs)", label, split.name, split.data.size());
    const train::Predictions predictions = train::predict_sharded(model, split.data, options, world);
    out[split.name] = score_predictions(split, predictions, vocab);
    logger()->info("eval: {} {}: {}", label, split.name, nlohmann::json(out[split.name]).dump());
    if (logits == nullptr) continue;
    for (const auto& [name, tensor] : {std::pair<const char*, const torch::Tensor&>{"logits", predictions.logits},
                                       {"start_logits", predictions.start_logits},
                                       {"end_logits", predictions.end_logits}})
      if (tensor.defined()) logits->emplace_back(fmt::format("{}.{}.{}", prefix, split.name, name), tensor.to(torch::kCPU));
  }
  return out;
}

Int8Result evaluate_int8(models::bert::BertForTask& model, const std::vector<EvalSplit>& splits,
                         const text::Vocab& vocab, const train::PredictOptions& options, const train::World& world,
                         const io::TensorList& w8a8_logits, io::TensorList* keep) {
  Int8Result result;
  result.conversion = sim::convert_to_int8(model);
  io::TensorList int8_logits;
  result.scores = evaluate_all(model, splits, vocab, options, world, "INT8", &int8_logits);
  sim::remove_int8(model);
  for (const auto& [name, tensor] : int8_logits) {
    const std::string simulated = "w8a8" + name.substr(std::string("int8").size());
    const auto it = std::find_if(w8a8_logits.begin(), w8a8_logits.end(), [&](const auto& e) { return e.first == simulated; });
    QSIM_CHECK(it != w8a8_logits.end(), ValueError, "int8 backend: no simulated logits '{}' to compare with", simulated);
    const std::string split = name.substr(5, name.rfind('.') - 5);
    const double diff = (tensor - it->second).abs().max().item<double>();
    result.max_abs_logit_diff[split] = std::max(result.max_abs_logit_diff[split], diff);
    if (keep != nullptr) keep->emplace_back(name, tensor);
  }
  return result;
}

void add_int8_row(ResultsTable& table, const ModelCard& card,
                  const std::vector<EvalSplit>& splits, const Int8Result& int8) {
  ResultsRow row{fmt::format("W8A8 int8 (LibTorch {})", sim::int8_engine()), {}};
  for (const auto& split : splits) row.values.push_back(headline(card, int8.scores.at(split.name)));
  table.rows.insert(table.rows.begin() + 2, row);
}

void add_ort_rows(ResultsTable& table, const ModelCard& card, const std::vector<EvalSplit>& splits,
                  const std::vector<OrtRow>& rows) {
  for (const OrtRow& ort : rows) {
    ResultsRow row{ort.label, {}};
    for (const auto& split : splits) row.values.push_back(headline(card, ort.scores.at(split.name)));
    table.rows.insert(table.rows.end() - 2, row);
  }
}

ResultsTable fp32_w8a8_table(const ModelCard& card, const std::vector<EvalSplit>& splits, const SplitScores& fp32,
                             const SplitScores& w8a8, const std::string& label) {
  ResultsTable table;
  ResultsRow fp32_row{"FP32 (qsim)", {}}, w8a8_row{label, {}};
  for (const auto& split : splits) {
    table.columns.push_back(column_name(split.name, card.metric));
    auto value = [&](const SplitScores& s) -> std::optional<double> {
      const auto it = s.find(split.name);
      return it == s.end() ? std::nullopt : std::optional<double>(headline(card, it->second));
    };
    fp32_row.values.push_back(value(fp32));
    w8a8_row.values.push_back(value(w8a8));
  }
  auto reference = [&](const char* key, const char* label) {
    ResultsRow row{label, {}};
    const auto it = card.reference.find(key);
    row.values.push_back(it == card.reference.end() ? std::nullopt : std::optional<double>(it->second));
    return row;
  };
  table.rows = {fp32_row, w8a8_row, reference("fp32", "FP32 (zoo reference)"), reference("w8a8", "W8A8 (zoo reference)")};
  return table;
}

}  // namespace qsim::examples
