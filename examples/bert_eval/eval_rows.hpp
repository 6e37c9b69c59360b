#pragma once

// The rows of bert_eval's table besides the zoo's references: a model evaluated on
// every split (FP32, the simulation), the same simulation with integer Linears
// (--backend int8), and the ONNX Runtime rows (--ort, ort_eval.hpp).

#include <map>
#include <string>
#include <vector>

#include "model_card.hpp"
#include "ort_eval.hpp"
#include "qsim/io/safetensors.hpp"
#include "qsim/sim/int8_backend.hpp"
#include "qsim/train/distributed.hpp"
#include "results_table.hpp"
#include "task_eval.hpp"

namespace qsim::examples {

using SplitScores = std::map<std::string, Scores>;  // split name → scores

/// The table's qsim rows, FP32 and the simulation (`label`), then the zoo's two
/// reference rows; one column per split.
ResultsTable fp32_w8a8_table(const ModelCard& card, const std::vector<EvalSplit>& splits, const SplitScores& fp32,
                             const SplitScores& w8a8, const std::string& label);

/// Scores every split; with `logits`, also keeps the raw outputs as
/// "<label>.<split>.<logits|start_logits|end_logits>" (label lower-cased: fp32, w8a8).
/// With several ranks each evaluates its shard of whole batches and every rank gets
/// all predictions (train::predict_sharded): the scores equal a single process's.
SplitScores evaluate_all(models::bert::BertForTask& model, const std::vector<EvalSplit>& splits,
                         const text::Vocab& vocab, const train::PredictOptions& options, const train::World& world,
                         const std::string& label, io::TensorList* logits);

/// --backend int8: the W8A8 model evaluated again with its Linears as integer GEMMs
/// (sim/int8_backend.hpp), and per split the largest |logit| difference to the
/// simulation's outputs (`w8a8_logits`, named as evaluate_all names them).
struct Int8Result {
  SplitScores scores;
  std::map<std::string, double> max_abs_logit_diff;
  sim::Int8Conversion conversion;
};

Int8Result evaluate_int8(models::bert::BertForTask& model, const std::vector<EvalSplit>& splits,
                         const text::Vocab& vocab, const train::PredictOptions& options, const train::World& world,
                         const io::TensorList& w8a8_logits, io::TensorList* keep);

/// "W8A8 int8 (LibTorch onednn)": the integer model's metric under the simulation's row.
void add_int8_row(ResultsTable& table, const ModelCard& card, const std::vector<EvalSplit>& splits,
                  const Int8Result& int8);

/// The ONNX Runtime rows, before the zoo's two reference rows.
void add_ort_rows(ResultsTable& table, const ModelCard& card, const std::vector<EvalSplit>& splits,
                  const std::vector<OrtRow>& rows);

}  // namespace qsim::examples
