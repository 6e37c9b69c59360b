// bert_demo: the README's first command. Trains a small BERT from random
// initialisation (Hugging Face's N(0, 0.02)) on a real GLUE train split (SST-2 by
// default; --task rte, mrpc, stsb or cola for the longer optional run;
// bert-base-uncased vocab), then evaluates its dev split in FP32 and under several
// simulations, each on its own copy of the trained model: W8A8 and a lower
// setting (--low_weight_bw / --low_act_bw), each after calibration only (PTQ) and
// after range-learning QAT, and the lower setting with the two PTQ fixes of
// Bondarenko et al. (2021): 16-bit FFN residual activations (mixed precision) and
// per-embedding-group quantization of the same activations. Everything runs on
// the CPU in a few minutes; see docs/results.md.
#include <chrono>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include "adaround_flags.hpp"
#include "demo_analysis.hpp"
#include "demo_onnx.hpp"
#include "demo_variants.hpp"
#include "model_card.hpp"
#include "detail/check.hpp"
#include "qsim/error.hpp"
#include "qsim/log.hpp"
#include "qsim/models/bert/bert_config.hpp"
#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/train/predict.hpp"
#include "qsim/train/trainer.hpp"
#include "results_table.hpp"
#include "task_eval.hpp"
#include "device_flag.hpp"
#include "tool_errors.hpp"

namespace {

using namespace qsim;
using Clock = std::chrono::steady_clock;

struct DemoFlags {
  std::string task = "sst2";
  std::string data_dir;
  std::string output_dir = "demo_result";
  int threads = 1;  // tiny matmuls: a second OpenMP thread costs more than it gives on a shared 2-core box
  int64_t layers = 2;
  int64_t hidden = 128;
  int64_t heads = 2;
  int64_t max_seq_length = 64;
  int64_t batch_size = 32;
  int64_t epochs = 2;
  int64_t max_train_samples = 0;
  double learning_rate = 1e-3;
  double dropout = 0.1;
  double initializer_range = 0.02;  // Hugging Face's default
  int64_t calibrate = 16;
  int64_t qat_steps = 400;
  double qat_learning_rate = 1e-4;
  double qat_range_learning_rate = 0.0;  // 0: qat_learning_rate
  int low_weight_bw = 8;
  int low_act_bw = 4;
  int mixed_precision_bits = 16;
  int64_t peg_groups = 6;
  uint64_t seed = 42;
  std::string attention_mask = "zoo";
  std::string device = "cpu";
  examples::OnnxFlags onnx;  // --export_onnx DIR, --ort
  examples::AdaroundFlags adaround;  // --adaround N adds the AdaRound rows
  std::vector<int> adaround_weight_bw{4};
  examples::AnalysisFlags analysis;  // --analyze, --amp_candidates: report (and row) of the lower setting
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Dev rows sorted by length, so batches trimmed to their longest sequence carry
// almost no padding (the zoo's −6 mask gives padded keys a small weight).
train::TaskDataset sorted_by_length(const train::TaskDataset& data) {
  const torch::Tensor order = std::get<1>(data.attention_mask.sum(1).sort(/*stable=*/true, 0, /*descending=*/true));
  train::TaskDataset out;
  out.input_ids = data.input_ids.index_select(0, order);
  out.token_type_ids = data.token_type_ids.index_select(0, order);
  out.attention_mask = data.attention_mask.index_select(0, order);
  out.labels = data.labels.index_select(0, order);
  return out;
}

models::bert::BertConfig demo_config(const DemoFlags& f, const examples::ModelCard& card, int64_t vocab_size) {
  nlohmann::json json = {{"vocab_size", vocab_size},
                         {"hidden_size", f.hidden},
                         {"num_hidden_layers", f.layers},
                         {"num_attention_heads", f.heads},
                         {"intermediate_size", 4 * f.hidden},
                         {"max_position_embeddings", std::max<int64_t>(128, f.max_seq_length)},
                         {"hidden_dropout_prob", f.dropout},
                         {"initializer_range", f.initializer_range},
                         {"attention_probs_dropout_prob", f.dropout},
                         {"num_labels", examples::num_labels_of(card)},
                         {"architectures", {"BertForSequenceClassification"}}};
  if (examples::num_labels_of(card) == 1) json["problem_type"] = "regression";
  auto config = models::bert::BertConfig::from_json(json, "demo config");
  config.attention_mask = models::bert::AttentionMask::parse(f.attention_mask);
  return config;
}

// Dev batches of 64 rows, trimmed to their longest sequence.
train::PredictOptions dev_options(torch::Device device) {
  train::PredictOptions options;
  options.device = device;
  options.batch_size = 64;
  options.trim_padding = true;
  return options;
}

// The card's headline metric on dev (accuracy, F1, MCC or correlation, in points).
double score(models::bert::BertForTask& model, const examples::ModelCard& card, const examples::EvalSplit& dev,
             const text::Vocab& vocab, torch::Device device) {
  return examples::headline(card, examples::evaluate_split(model, dev, vocab, dev_options(device)));
}

// What a PTQ row did besides the variant's settings.
std::string ptq_detail(const examples::DemoVariant& v, const DemoFlags& f) {
  if (v.adaround) return fmt::format(" (AdaRound, {} steps per layer)", f.adaround.iterations);
  if (v.float_activations) return " (nearest rounding)";
  if (v.mixed_precision_bits > 0 || v.peg_groups > 0) return "";
  return " (calibration only)";
}

// FP32, then each variant's PTQ row (and QAT row), then the zoo's reference rows.
examples::ResultsTable demo_table(const examples::ModelCard& card, double fp32,
                                  const std::vector<examples::DemoVariant>& variants,
                                  const std::vector<examples::VariantResult>& results, const DemoFlags& f,
                                  const std::vector<examples::OrtRow>& ort_rows) {
  examples::ResultsTable table;
  table.columns = {examples::column_name(card.task, card.metric), "agrees with FP32 (%)", "logit MSE vs FP32"};
  table.significant_digits = {0, 0, 3};
  const auto with = [](double score, const std::optional<examples::Fidelity>& fid) {
    return std::vector<std::optional<double>>{score, fid ? fid->agreement : std::nullopt,
                                              fid ? std::optional<double>(fid->logit_mse) : std::nullopt};
  };
  table.rows.push_back({"FP32 (demo BERT, from scratch)", {fp32, 100.0, 0.0}});
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const std::string& name = variants[i].name;
    table.rows.push_back({fmt::format("{} PTQ{}", name, ptq_detail(variants[i], f)),
                          with(results[i].ptq, results[i].ptq_fidelity)});
    if (results[i].qat) {
      table.rows.push_back({fmt::format("{} QAT ({} steps of range learning)", name, f.qat_steps),
                            with(*results[i].qat, results[i].qat_fidelity)});
    }
  }
  for (const examples::OrtRow& row : ort_rows) {
    table.rows.push_back({row.label, with(examples::headline(card, row.scores.begin()->second), std::nullopt)});
  }
  table.rows.push_back({"FP32 (zoo bert-base, reference)", with(card.reference.at("fp32"), std::nullopt)});
  table.rows.push_back({"W8A8 (zoo bert-base, reference)", with(card.reference.at("w8a8"), std::nullopt)});
  return table;
}

nlohmann::json flags_json(const DemoFlags& f) {
  return {{"layers", f.layers},
          {"hidden", f.hidden},
          {"heads", f.heads},
          {"max_seq_length", f.max_seq_length},
          {"batch_size", f.batch_size},
          {"epochs", f.epochs},
          {"learning_rate", f.learning_rate},
          {"initializer_range", f.initializer_range},
          {"calibrate", f.calibrate},
          {"qat_steps", f.qat_steps},
          {"qat_learning_rate", f.qat_learning_rate},
          {"qat_range_learning_rate", f.qat_range_learning_rate > 0.0 ? f.qat_range_learning_rate : f.qat_learning_rate},
          {"low_weight_bw", f.low_weight_bw},
          {"low_act_bw", f.low_act_bw},
          {"mixed_precision_bits", f.mixed_precision_bits},
          {"peg_groups", f.peg_groups},
          {"seed", f.seed},
          {"threads", f.threads},
          {"adaround", f.adaround.to_json()},
          {"adaround_weight_bw", f.adaround_weight_bw},
          {"analysis", f.analysis.to_json()}};
}

// FP32 training from random initialisation; returns its seconds.
double train_fp32(models::bert::BertForTask& model, const train::TaskDataset& data, const DemoFlags& f) {
  const auto start = Clock::now();
  train::Trainer trainer(model, train::TrainOptions()
                                    .learning_rate(f.learning_rate)
                                    .warmup_ratio(0.06)
                                    .weight_decay(0.01)
                                    .dropout(f.dropout)
                                    .batch_size(f.batch_size)
                                    .epochs(f.epochs)
                                    .seed(f.seed)
                                    .trim_padding(true)
                                    .group_by_length(true)
                                    .log_every(200));
  trainer.train(data);
  return seconds_since(start);
}

train::TrainOptions qat_options(const DemoFlags& f) {
  return train::TrainOptions()
      .learning_rate(f.qat_learning_rate)
      .range_learning_rate(f.qat_range_learning_rate > 0.0 ? f.qat_range_learning_rate : f.qat_learning_rate)
      .warmup_ratio(0.1)
      .dropout(0.0)
      .batch_size(f.batch_size)
      .max_steps(f.qat_steps)
      .seed(f.seed + 1)
      .trim_padding(true)
      .group_by_length(true)
      .log_every(100);
}

// W8A8 and the lower setting (PTQ and QAT), then the lower setting's PTQ fixes.
std::vector<examples::DemoVariant> demo_variants(const DemoFlags& f) {
  const std::string low = fmt::format("W{}A{}", f.low_weight_bw, f.low_act_bw);
  const int w = f.low_weight_bw, a = f.low_act_bw;
  const bool qat = f.qat_steps > 0;
  using sim::QuantScheme;
  const QuantScheme learned = QuantScheme::tf_range_learning;
  std::vector<examples::DemoVariant> out = {
      {"W8A8", 8, 8, 0, 0, true, qat, learned, false, false},
      {low, w, a, 0, 0, true, qat, learned, false, false},
      {fmt::format("{} +MP{}", low, f.mixed_precision_bits), w, a, f.mixed_precision_bits, 0, true, false, learned,
       false, false},
      {fmt::format("{} +PEG{}", low, f.peg_groups), w, a, 0, f.peg_groups, true, false, learned, false, false},
      {fmt::format("{} +PEG{} (no permutation)", low, f.peg_groups), w, a, 0, f.peg_groups, false, false, learned,
       false, false},
  };
  // AdaRound against nearest rounding on the same static (TF) weight grid, per weight
  // bitwidth; the QAT row starts from nearest rounding under range learning, as above.
  for (const int r : f.adaround.enabled() ? f.adaround_weight_bw : std::vector<int>{}) {
    const std::string wa = fmt::format("W{}A8", r), wf = fmt::format("W{} (float activations)", r);
    const QuantScheme tf = QuantScheme::tf;
    out.push_back({wa + " (static grid)", r, 8, 0, 0, true, false, tf, false, false});
    out.push_back({wa + " AdaRound", r, 8, 0, 0, true, false, tf, true, false});
    out.push_back({wa, r, 8, 0, 0, true, qat, learned, false, false});
    out.push_back({wf, r, 8, 0, 0, true, false, tf, false, true});
    out.push_back({wf + " AdaRound", r, 8, 0, 0, true, false, tf, true, true});
  }
  return out;
}

// Per variant: what PTQ lost and what QAT won back, and how long it took.
std::string variant_notes(double fp32, const std::vector<examples::DemoVariant>& variants,
                          const std::vector<examples::VariantResult>& results, int64_t qat_steps) {
  std::string notes;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const examples::VariantResult& r = results[i];
    const double lost = fp32 - r.ptq;
    notes += fmt::format("{}: PTQ loses {:.2f} points", variants[i].name, lost);
    if (r.qat) {
      notes += fmt::format("; QAT ({} steps) recovers {:.2f}{}", qat_steps, *r.qat - r.ptq,
                           lost > 0.0 ? fmt::format(" ({:.0f} % of the loss)", 100.0 * (*r.qat - r.ptq) / lost) : "");
    }
    notes += fmt::format(" ({:.0f} s).\n", r.seconds);
  }
  return notes;
}

// One line per FFN residual quantizer: how far its widest channel sticks out.
std::string range_notes(const nlohmann::json& ranges) {
  std::string notes = "FFN residual activations, channel ranges (max - min) on the calibration batches:\n";
  for (const auto& [name, r] : ranges.items()) {
    notes += fmt::format("  {}: median {:.3g}, widest {:.3g} ({:.1f}x), {} channel(s) above 6x the median\n", name,
                         r.at("median_range").get<double>(), r.at("max_range").get<double>(),
                         r.at("max_over_median").get<double>(), r.at("outlier_channels").size());
  }
  return notes;
}

int run(const DemoFlags& f) {
  const auto start = Clock::now();
  f.onnx.validate();
  f.analysis.validate();
  at::set_num_threads(f.threads);
  const torch::Device device = examples::parse_device_flag(f.device);
  const std::string data_dir = examples::resolve_data_dir(f.data_dir);
  const auto tokenizer = text::BertTokenizer::from_file(examples::resolve_vocab("", data_dir));
  // The zoo card of the task gives its metric, label count and reference row.
  examples::ModelCard card = examples::load_model_card("bert_w8a8_" + f.task, examples::default_model_card_dir());
  QSIM_CHECK(!card.is_squad() && card.task != "mnli" && card.task != "qqp" && card.task != "qnli", ConfigError,
             "--task {}: the demo trains on the small GLUE tasks sst2, rte, mrpc, stsb or cola", f.task);
  card.max_seq_length = f.max_seq_length;
  // On the training device once: the trainer and the calibration batches run there.
  const train::TaskDataset train_data =
      examples::load_train_split(card, data_dir, tokenizer, std::nullopt, f.max_train_samples).to(device);
  examples::EvalSplit dev = examples::load_dev_splits(card, data_dir, tokenizer, std::nullopt, 0).front();
  dev.data = sorted_by_length(dev.data);
  logger()->info("demo: data ready in {:.1f} s", seconds_since(start));

  torch::manual_seed(f.seed);
  models::bert::BertForTask model(demo_config(f, card, tokenizer.vocab().size()));
  model->to(device);
  const double fp32_train_s = train_fp32(model, train_data, f);
  const double fp32 = score(model, card, dev, tokenizer.vocab(), device);
  logger()->info("demo: FP32 dev {} {:.2f} (training {:.0f} s)", card.metric, fp32, fp32_train_s);
  examples::DemoOnnx onnx(f.onnx, card, dev, tokenizer.vocab(), dev_options(device));
  onnx.fp32(model);
  examples::FidelityMeter fidelity(dev.data, dev_options(device));
  fidelity.set_reference(model);

  examples::VariantRun run;
  run.calibration_batches = f.calibrate;
  run.batch_size = f.batch_size;
  run.device = device;
  run.qat = qat_options(f);
  if (f.adaround.enabled()) run.adaround = f.adaround.options(f.batch_size);
  run.fidelity = [&](models::bert::BertForTask& m) { return fidelity.measure(m); };
  run.score = [&](models::bert::BertForTask& m) { return score(m, card, dev, tokenizer.vocab(), device); };
  run.on_scored = [&](const examples::DemoVariant& variant, const std::string& stage, const sim::QuantSim& quantsim,
                      models::bert::BertForTask& m) { onnx.simulated(variant, stage, quantsim, m); };
  const std::vector<examples::DemoVariant> variants = demo_variants(f);
  std::vector<examples::VariantResult> results;
  for (const examples::DemoVariant& variant : variants) {
    results.push_back(examples::run_variant(model, variant, train_data, run));
  }

  std::optional<examples::DemoAnalysis> analysis;
  if (f.analysis.any()) {
    analysis = examples::run_demo_analysis(f.analysis, model, train_data, run, variants[1], f.output_dir + "/analysis");
  }
  const nlohmann::json ranges = examples::ffn_residual_ranges(model, train_data, run);
  examples::ResultsTable table = demo_table(card, fp32, variants, results, f, onnx.rows());
  if (analysis && analysis->amp_score) {  // before the zoo's two reference rows
    const auto& fid = analysis->amp_fidelity;
    table.rows.insert(table.rows.end() - 2, {analysis->amp_label, {*analysis->amp_score, fid ? fid->agreement : std::nullopt,
                                                                   fid ? std::optional<double>(fid->logit_mse) : std::nullopt}});
  }
  const double total_s = seconds_since(start);
  const std::string model_line =
      fmt::format("{} layers, hidden {}, {} heads, seq {}, vocab {}; {} train examples, {} epoch(s), batch {}",
                  f.layers, f.hidden, f.heads, f.max_seq_length, tokenizer.vocab().size(), train_data.size(),
                  f.epochs, f.batch_size);
  const std::string notes =
      fmt::format("Model: {}.\n{}{}{}{}Times: FP32 training {:.0f} s, total {:.0f} s on {} threads.", model_line,
                  variant_notes(fp32, variants, results, f.qat_steps), range_notes(ranges), onnx.notes(),
                  analysis ? analysis->notes : "", fp32_train_s, total_s, f.threads);
  nlohmann::json variants_json = nlohmann::json::object();
  for (std::size_t i = 0; i < variants.size(); ++i) variants_json[variants[i].name] = results[i].to_json();
  nlohmann::json json = {{"task", card.task},
                               {"device", f.device},
                               {"metric", card.metric},
                               {"fp32", fp32},
                               {"variants", variants_json},
                               {"ffn_residual_channel_ranges", ranges},
                               {"reference", card.reference},
                               {"model", model_line},
                               {"settings", flags_json(f)},
                               {"seconds", {{"fp32_train", fp32_train_s}, {"total", total_s}}}};
  if (f.onnx.exporting()) json["onnx"] = onnx.to_json();
  if (analysis) json["analysis"] = analysis->summary;
  examples::write_results(f.output_dir, json, fmt::format("qsim demo: {}, small BERT from scratch", card.task), table,
                          notes);
  fmt::print("\n{}\n{}\nresults: {}/results.json, {}/results.md\n", table.markdown(), notes, f.output_dir,
             f.output_dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bert_demo: small BERT on SST-2 from scratch: FP32 vs PTQ vs QAT at W8A8 and a lower setting, plus mixed precision and PEG"};
  DemoFlags f;
  app.add_option("--task", f.task, "GLUE task trained and evaluated: sst2 (default), rte, mrpc, stsb or cola");
  app.add_option("--data_dir", f.data_dir, "data root with glue/<TASK> and vocab/ (default: $QSIM_DATA_DIR, ../shared/data)");
  app.add_option("--output_dir", f.output_dir, "where results.json and results.md go");
  app.add_option("--threads", f.threads, "CPU threads")->check(CLI::Range(1, 256));
  app.add_option("--layers", f.layers, "encoder layers")->check(CLI::Range(1, 24));
  app.add_option("--hidden", f.hidden, "hidden size")->check(CLI::Range(16, 1024));
  app.add_option("--heads", f.heads, "attention heads")->check(CLI::Range(1, 64));
  app.add_option("--max_seq_length", f.max_seq_length, "tokens per sequence")->check(CLI::Range(8, 512));
  app.add_option("--batch_size", f.batch_size, "training batch size")->check(CLI::Range(1, 4096));
  app.add_option("--epochs", f.epochs, "FP32 training epochs")->check(CLI::Range(1, 100));
  app.add_option("--max_train_samples", f.max_train_samples, "use the first N train rows (0 = all)");
  app.add_option("--learning_rate", f.learning_rate, "FP32 peak learning rate");
  app.add_option("--dropout", f.dropout, "FP32 dropout")->check(CLI::Range(0.0, 0.9));
  app.add_option("--initializer_range", f.initializer_range, "std of the random initialisation (HF's 0.02)")
      ->check(CLI::Range(0.0, 10.0));
  app.add_option("--calibrate", f.calibrate, "calibration batches")->check(CLI::Range(1, 100000));
  app.add_option("--qat_steps", f.qat_steps, "QAT steps")->check(CLI::Range(0, 1000000));
  app.add_option("--qat_learning_rate", f.qat_learning_rate, "QAT learning rate of the weights (and of the ranges, by default)");
  app.add_option("--qat_range_learning_rate", f.qat_range_learning_rate, "QAT learning rate of the ranges (0 = --qat_learning_rate)");
  app.add_option("--low_weight_bw", f.low_weight_bw, "weight bitwidth of the lower setting")->check(CLI::Range(4, 32));
  app.add_option("--low_act_bw", f.low_act_bw, "activation bitwidth of the lower setting")->check(CLI::Range(4, 32));
  app.add_option("--mixed_precision_bits", f.mixed_precision_bits, "bitwidth of the FFN residual activations in the mixed-precision row")->check(CLI::Range(4, 32));
  app.add_option("--peg_groups", f.peg_groups, "embedding groups of the FFN residual activations in the PEG row")->check(CLI::Range(1, 4096));
  app.add_option("--seed", f.seed, "seed of initialisation, shuffling and dropout");
  app.add_option("--device", f.device, "cpu or cuda (model, training, calibration, QAT and evaluation)");
  app.add_option("--attention_mask", f.attention_mask, "zoo (-6), hf (-10000) or a number");
  f.onnx.add_to(app);
  f.adaround.add_to(app);
  f.analysis.add_to(app);
  app.add_option("--adaround_weight_bw", f.adaround_weight_bw,
                 "weight bitwidth(s) of the AdaRound rows (default 4; repeatable, e.g. 4 3)")
      ->check(CLI::Range(2, 8));
  CLI11_PARSE(app, argc, argv);
  return qsim::examples::run_reporting_errors("bert_demo", [&] { return run(f); });
}
