// bert_eval: the AIMET model zoo's BERT evaluation with qsim. For one model card
// (bert_w8a8_<task>) it evaluates the FP32 model and its W8A8 simulation on the
// task's dev set, prints both next to the zoo's reference row and writes
// results.json / results.md to --output_dir.
//
//   bert_eval --model_config bert_w8a8_rte --per_device_eval_batch_size 4
//       --model_dir <fine-tuned HF checkpoint> --output_dir ./evaluation_result
//
// W8A8 comes from --quantized_model_dir (a qsim quantized checkpoint) or is made
// here: calibration on --calibrate N train batches, then --qat_epochs E of range
// learning (--qat_checkpoint_every N makes it resumable after a crash).
// --save_logits also writes every example's raw outputs to logits.safetensors.
// Exit codes: 0 ok, 2 bad flags / config / missing or corrupt files, 1 other.
#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include "detail/check.hpp"
#include "eval_model.hpp"
#include "adaround_flags.hpp"
#include "analysis_flags.hpp"
#include "eval_rows.hpp"
#include "model_card.hpp"
#include "qsim/error.hpp"
#include "qsim/io/safetensors.hpp"
#include "qsim/log.hpp"
#include "qsim/models/bert/bert_checkpoint.hpp"
#include "qsim/sim/quantized_checkpoint.hpp"
#include "qsim/train/distributed.hpp"
#include "qsim/train/trainer.hpp"
#include "results_table.hpp"
#include "sim_flags.hpp"
#include "task_eval.hpp"
#include "device_flag.hpp"
#include "tool_errors.hpp"

namespace {

using namespace qsim;

struct EvalFlags {
  std::string model_config;
  std::string model_card_dir;
  int64_t batch_size = 8;
  std::string output_dir = "evaluation_result";
  std::string model_dir;
  std::string quantized_model_dir;
  std::string save_quantized_model_dir;
  std::string data_dir;
  int64_t max_eval_samples = 0;
  int threads = 0;
  std::string device = "cpu";
  int64_t calibrate = 16;
  int64_t qat_epochs = 0;
  bool gradient_checkpointing = false;
  bool skip_padding = false;
  std::string backend = "sim";
  train::DistOptions dist;  // --world_size/--rank/--master_addr/--master_port, defaults from torchrun's variables  // sim, or int8: also evaluate the W8A8 model with integer Linears
  int64_t qat_max_steps = 0;
  int64_t qat_checkpoint_every = 0;
  int64_t max_train_samples = 0;
  std::string attention_mask = "card";
  bool save_logits = false;
  int weight_bw = 0;  // 0: the card's param_bitwidth
  int act_bw = 0;     // 0: the card's output_bitwidth
  examples::SimFlags sim;  // mixed precision and embedding groups
  examples::OnnxFlags onnx;  // --export_onnx DIR, --ort, --onnx_static_shape
  examples::AdaroundFlags adaround;  // --adaround N, --adaround_*
  examples::AnalysisFlags analysis;  // --analyze, --amp_candidates, ...
};

// Calibration (and QAT) data: the train split, else the dev inputs with a warning.
train::TaskDataset calibration_data(const examples::ModelCard& card, const EvalFlags& f, const std::string& data_dir,
                                    const text::BertTokenizer& tokenizer,
                                    const std::optional<tasks::LabelMap>& label2id,
                                    const std::vector<examples::EvalSplit>& dev) {
  try {
    return examples::load_train_split(card, data_dir, tokenizer, label2id, f.max_train_samples);
  } catch (const IoError& e) {
    QSIM_CHECK(f.qat_epochs == 0 && f.qat_max_steps == 0, IoError, "--qat_epochs needs the train split: {}", e.what());
    logger()->warn("calibration: no train split ({}); calibrating on the dev inputs instead", e.what());
    return dev.front().data;
  }
}

void make_w8a8(sim::QuantSim& quantsim, models::bert::BertForTask& model, const train::TaskDataset& data,
               const EvalFlags& f, torch::Device device, const train::World& world) {
  logger()->info("calibration: {} batches of {}", f.calibrate, f.batch_size);
  if (world.size() > 1) {
    // Each rank calibrates on its share of the batches; min/max statistics are
    // all-reduced, so the encodings equal one process's over every batch.
    quantsim.set_statistics_reduce([&world](at::Tensor& lo, at::Tensor& hi) {
      world.all_reduce_min_(lo);
      world.all_reduce_max_(hi);
    });
    const train::TaskDataset mine = train::shard(data.head(f.calibrate * f.batch_size), f.batch_size, world);
    quantsim.compute_encodings([&](torch::nn::Module&) { train::run_batches(model, mine, f.batch_size, 0, device); });
  } else {
    quantsim.compute_encodings(
        [&](torch::nn::Module&) { train::run_batches(model, data, f.batch_size, f.calibrate, device); });
  }
  if (f.qat_epochs > 0 || f.qat_max_steps > 0) {
    quantsim.set_mode(sim::Mode::range_learning);
    // Calibration is deterministic, so a resumed run recomputes the same starting
    // ranges and the checkpoint then overwrites weights, ranges, optimizer and RNG.
    const std::string state_dir = f.qat_checkpoint_every > 0 ? f.output_dir + "/qat_state" : "";
    train::Trainer trainer(model, train::TrainOptions()
                                      .epochs(std::max<int64_t>(1, f.qat_epochs))
                                      .max_steps(f.qat_max_steps)
                                      .checkpoint_every(f.qat_checkpoint_every)
                                      .checkpoint_dir(state_dir)
                                      .gradient_checkpointing(f.gradient_checkpointing));
    if (!state_dir.empty() && train::checkpoint_exists(state_dir)) trainer.load_checkpoint(state_dir);
    trainer.set_world(&world);  // several ranks: each its share of every batch, gradients averaged
    trainer.train(data.to(device));  // the trainer runs on the data's device
  }
  quantsim.set_mode(sim::Mode::quantized);
}

// "W8A8", "W4A8 +MP +PEG", ... (the table adds who ran it)
std::string simulation_label(const examples::ModelCard& card, const examples::SimFlags& sim, bool amp = false) {
  return fmt::format("W{}A{}{}{}{}", card.param_bitwidth, card.output_bitwidth,
                     sim.bitwidth_overrides.empty() && sim.mixed_precision.empty() ? "" : " +MP",
                     sim.peg.empty() ? "" : " +PEG", amp ? " +AMP" : "");
}

// --weight_bw / --act_bw replace the card's bitwidths for the simulation made here
// (e.g. W4A8); a quantized checkpoint carries its own, so they cannot apply to one.
void apply_bitwidth_flags(const EvalFlags& f, examples::ModelCard& card) {
  const auto apply = [&](int bits, int lowest, const char* flag, int& target) {
    if (bits == 0) return;
    QSIM_CHECK(bits >= lowest && bits <= 32, ConfigError, "{} must be in [{}, 32] bits, got {}", flag, lowest, bits);
    QSIM_CHECK(f.quantized_model_dir.empty(), ConfigError,
               "{} sets the bitwidth of the simulation bert_eval calibrates; --quantized_model_dir '{}' "
               "brings its own encodings and bitwidths",
               flag, f.quantized_model_dir);
    target = bits;
  };
  apply(f.weight_bw, 2, "--weight_bw", card.param_bitwidth);
  apply(f.act_bw, 4, "--act_bw", card.output_bitwidth);
  QSIM_CHECK(!f.adaround.enabled() || f.quantized_model_dir.empty(), ConfigError,
             "--adaround rounds the weights of the simulation bert_eval calibrates; --quantized_model_dir '{}' brings "
             "its own",
             f.quantized_model_dir);
  QSIM_CHECK(f.sim.empty() || f.quantized_model_dir.empty(), ConfigError,
             "--bitwidth_override / --peg configure the simulation bert_eval calibrates; --quantized_model_dir '{}' "
             "brings its own",
             f.quantized_model_dir);
}

int run(const EvalFlags& f) {
  examples::ModelCard card = examples::load_model_card(
      f.model_config, f.model_card_dir.empty() ? examples::default_model_card_dir() : f.model_card_dir);
  apply_bitwidth_flags(f, card);
  QSIM_CHECK(!f.model_dir.empty() || !f.quantized_model_dir.empty(), IoError,
             "no checkpoint given for {}: pass --model_dir <Hugging Face checkpoint fine-tuned on {}> and/or "
             "--quantized_model_dir <qsim quantized checkpoint>; {}",
             card.name, card.task, card.checkpoint_hint);
  QSIM_CHECK(f.batch_size > 0, ConfigError, "--per_device_eval_batch_size must be > 0, got {}", f.batch_size);
  QSIM_CHECK(f.calibrate > 0, ConfigError, "--calibrate must be > 0 batches, got {}", f.calibrate);
  if (f.threads > 0) at::set_num_threads(f.threads);
  const torch::Device device = examples::parse_device_flag(f.device);
  QSIM_CHECK(f.backend != "int8" || device.is_cpu(), ConfigError,
             "--backend int8 runs on LibTorch's quantized CPU engine: use --device cpu");
  f.dist.validate();
  f.onnx.validate();
  f.analysis.validate();
  QSIM_CHECK(!f.analysis.any() || (f.dist.world_size == 1 && f.quantized_model_dir.empty()), ConfigError,
             "--analyze / --amp_candidates analyse the simulation made here, in one process: drop --world_size and "
             "--quantized_model_dir");
  QSIM_CHECK(f.dist.world_size == 1 || f.qat_checkpoint_every == 0, ConfigError,
             "--qat_checkpoint_every with --world_size {}: resumable data-parallel QAT is not supported; drop one",
             f.dist.world_size);
  const train::World world(f.dist);
  QSIM_CHECK(f.backend == "sim" || f.backend == "int8", ConfigError, "--backend: expected sim or int8, got '{}'",
             f.backend);
  const auto mask = examples::resolve_mask(card, f.attention_mask);
  QSIM_CHECK(!f.skip_padding || mask.mode == models::bert::MaskMode::hf, ConfigError,
             "--skip_padding needs --attention_mask hf: under the zoo (-6) or a custom mask padded keys keep a weight");
  const std::string data_dir = examples::resolve_data_dir(f.data_dir);

  // The FP32 model: the HF checkpoint, else the quantized checkpoint's weights with every quantizer off.
  std::optional<models::bert::BertForTask> model;
  std::optional<sim::QuantizedBert> quantized;
  if (!f.quantized_model_dir.empty()) {
    quantized.emplace(sim::load_quantized_bert(f.quantized_model_dir));
    examples::check_fits_task(quantized->model->config, card, f.quantized_model_dir + "/config.json");
    if (f.attention_mask != "card") quantized->model->bert->set_attention_mask(mask);
    quantized->model->to(device);
  }
  if (!f.model_dir.empty()) {
    model.emplace(models::bert::load_pretrained(f.model_dir, mask));
    examples::check_fits_task((*model)->config, card, f.model_dir + "/config.json");
    (*model)->to(device);
  }
  const models::bert::BertConfig& config = model ? (*model)->config : quantized->model->config;
  const std::string vocab_source = !f.model_dir.empty() ? f.model_dir : f.quantized_model_dir;
  const auto tokenizer = text::BertTokenizer::from_file(examples::resolve_vocab(vocab_source, data_dir));
  std::optional<tasks::LabelMap> label2id;
  if (!config.label2id.empty()) label2id = config.label2id;
  const auto splits = examples::load_dev_splits(card, data_dir, tokenizer, label2id, f.max_eval_samples);

  train::PredictOptions predict;
  predict.batch_size = f.batch_size;
  predict.device = device;
  predict.log_every = 50;
  examples::SplitScores fp32, w8a8;
  io::TensorList logits, compared;
  io::TensorList* keep = f.save_logits || f.onnx.ort ? &logits : nullptr;  // --ort compares with them
  const bool int8 = f.backend == "int8";
  io::TensorList* w8a8_keep = keep != nullptr ? keep : (int8 ? &compared : nullptr);
  std::optional<examples::Int8Result> int8_result;
  std::optional<examples::OnnxRun> onnx;
  std::optional<ptq::AdaroundResult> rounded;
  std::optional<examples::AnalysisOutcome> analysis;
  const auto export_onnx = [&](const sim::QuantSim& simulation) {
    if (!f.onnx.exporting() || !world.is_main()) return;
    const deploy::OrtOptions ort = deploy::OrtOptions().batch_size(f.batch_size).threads(at::get_num_threads());
    onnx = examples::export_and_run_onnx(f.onnx, simulation, card.name, f.batch_size, card.max_seq_length, "w8a8",
                                         simulation_label(card, f.sim), {splits, tokenizer.vocab(), logits, ort});
  };
  // skip_padding: the FP32 rows only (the library runs quantized modes padded).
  if (model) {
    (*model)->bert->skip_padding = f.skip_padding;
    fp32 = examples::evaluate_all(*model, splits, tokenizer.vocab(), predict, world, "FP32", keep);
    (*model)->bert->skip_padding = false;
  } else {
    quantized->sim.set_mode(sim::Mode::fp32);
    quantized->model->bert->skip_padding = f.skip_padding;
    fp32 = examples::evaluate_all(quantized->model, splits, tokenizer.vocab(), predict, world, "FP32", keep);
    quantized->model->bert->skip_padding = false;
    quantized->sim.set_mode(sim::Mode::quantized);
  }
  if (quantized) {
    quantized->sim.set_mode(sim::Mode::quantized);
    w8a8 = examples::evaluate_all(quantized->model, splits, tokenizer.vocab(), predict, world, "W8A8", w8a8_keep);
    if (int8) int8_result = examples::evaluate_int8(quantized->model, splits, tokenizer.vocab(), predict, world, *w8a8_keep, keep);
    export_onnx(quantized->sim);
  } else {
    sim::SimOptions options = examples::card_sim_options(card);
    f.sim.apply(options);
    sim::QuantSim quantsim(*model, sim::QuantSimConfig::aimet_default(), options);
    const train::TaskDataset calibration = calibration_data(card, f, data_dir, tokenizer, label2id, splits);
    if (f.adaround.enabled()) rounded = ptq::adaround(quantsim, *model, calibration, f.adaround.options(f.batch_size));
    if (f.analysis.any()) {
      const auto dev_metric = [&](models::bert::BertForTask& m) {
        return examples::headline(card, examples::evaluate_split(m, splits.front(), tokenizer.vocab(), predict));
      };
      analysis = examples::run_analysis(f.analysis, {quantsim, *model, calibration, f.calibrate, f.batch_size, device, dev_metric},
                                        f.output_dir + "/analysis", fmt::format("bert_eval: {}", card.name), card.to_json());
    }
    make_w8a8(quantsim, *model, calibration, f, device, world);
    w8a8 = examples::evaluate_all(*model, splits, tokenizer.vocab(), predict, world, "W8A8", w8a8_keep);
    if (int8) int8_result = examples::evaluate_int8(*model, splits, tokenizer.vocab(), predict, world, *w8a8_keep, keep);
    if (!f.save_quantized_model_dir.empty() && world.is_main()) sim::save_quantized(quantsim, f.save_quantized_model_dir);
    export_onnx(quantsim);
  }

  if (!world.is_main()) return 0;  // rank 0 reports; every rank holds the same scores
  examples::ResultsTable table = examples::fp32_w8a8_table(card, splits, fp32, w8a8, simulation_label(card, f.sim, analysis.has_value() && analysis->amp) + " (qsim)");
  if (int8_result) examples::add_int8_row(table, card, splits, *int8_result);
  if (onnx) examples::add_ort_rows(table, card, splits, onnx->rows);
  nlohmann::json settings = card.to_json();
  settings["attention_mask_used"] = f.attention_mask == "card" ? card.attention_mask : f.attention_mask;
  settings["per_device_eval_batch_size"] = f.batch_size;
  settings["max_eval_samples"] = f.max_eval_samples;
  settings["w8a8_source"] = quantized ? "quantized_model_dir" : "calibration";
  settings["calibrate_batches"] = quantized ? 0 : f.calibrate;
  settings["qat_epochs"] = quantized ? 0 : f.qat_epochs;
  settings["qat_max_steps"] = quantized ? 0 : f.qat_max_steps;
  settings["gradient_checkpointing"] = f.gradient_checkpointing;
  settings["skip_padding"] = f.skip_padding;
  settings["backend"] = f.backend;
  settings["world_size"] = f.dist.world_size;
  settings["device"] = f.device;
  settings["sim_flags"] = f.sim.to_json();
  settings["adaround"] = f.adaround.to_json();
  nlohmann::json headline = nlohmann::json::object();
  for (const auto& split : splits)
    headline[split.name] = {{"fp32", examples::headline(card, fp32.at(split.name))},
                            {"w8a8", examples::headline(card, w8a8.at(split.name))}};
  nlohmann::json json = {{"model_config", card.name}, {"task", card.task},  {"metric", card.metric},
                         {"fp32", fp32},              {"w8a8", w8a8},       {"headline", headline},
                         {"reference", card.reference}, {"settings", settings}};
  if (int8_result) {
    json["int8"] = int8_result->scores;
    for (const auto& split : splits)
      json["headline"][split.name]["int8"] = examples::headline(card, int8_result->scores.at(split.name));
    json["int8_max_abs_logit_diff"] = int8_result->max_abs_logit_diff;
    json["int8_backend"] = {{"engine", sim::int8_engine()},
                            {"integer_linears", int8_result->conversion.integer.size()},
                            {"kept_float", int8_result->conversion.kept_float},
                            {"activations_on_codes", int8_result->conversion.on_codes}};
  }
  std::string notes;
  if (int8_result) {
    notes = fmt::format("Integer model: {} Linears as int8 GEMMs on the {} engine, {} kept in float, {} GELUs on "
                        "codes (results.json \"int8_backend\"); max |logit| difference to the simulation:",
                        int8_result->conversion.integer.size(), sim::int8_engine(),
                        int8_result->conversion.kept_float.size(), int8_result->conversion.on_codes.size());
    for (const auto& [split, diff] : int8_result->max_abs_logit_diff) notes += fmt::format(" {} {:.4g};", split, diff);
    notes += "\n";
  }
  if (rounded) {
    json["adaround"] = rounded->to_json();
    notes += fmt::format("AdaRound: {} layers in {:.0f} s (per-layer losses in results.json \"adaround\").\n",
                         rounded->layers.size(), rounded->seconds);
  }
  if (analysis) {
    json["analysis"] = analysis->summary;
    notes += analysis->notes;
  }
  if (onnx) {
    json["onnx"] = onnx->to_json();
    notes += onnx->notes();
  }
  examples::write_results(f.output_dir, json, fmt::format("bert_eval: {}", card.name), table, notes);
  if (f.save_logits) io::save_safetensors(f.output_dir + "/logits.safetensors", logits, {{"model_config", card.name}});
  fmt::print("\n{}\nresults: {}/results.json, {}/results.md\n", table.markdown(), f.output_dir, f.output_dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bert_eval: FP32 vs W8A8 (qsim QuantSim) on GLUE / SQuAD, next to the AIMET model zoo's numbers"};
  EvalFlags f;
  app.add_option("--model_config", f.model_config, "model card: bert_w8a8_{rte,stsb,mrpc,cola,sst2,qnli,qqp,mnli,squad} or a .json path")
      ->required();
  app.add_option("--model_card_dir", f.model_card_dir, "where the model cards live (default: $QSIM_MODEL_CARD_DIR, the source tree)");
  app.add_option("--per_device_eval_batch_size", f.batch_size, "evaluation (and calibration) batch size");
  app.add_option("--output_dir", f.output_dir, "where results.json and results.md go");
  app.add_option("--model_dir", f.model_dir, "FP32 Hugging Face checkpoint (config.json + model.safetensors or pytorch_model.bin)");
  app.add_option("--quantized_model_dir", f.quantized_model_dir, "qsim quantized checkpoint (weights + encodings)");
  app.add_option("--save_quantized_model_dir", f.save_quantized_model_dir, "save the W8A8 simulation made here as a quantized checkpoint");
  app.add_option("--data_dir", f.data_dir, "data root with glue/<TASK>/*.tsv and squad/ (default: $QSIM_DATA_DIR, ../shared/data)");
  app.add_option("--max_eval_samples", f.max_eval_samples, "evaluate the first N examples (0 = all)");
  app.add_option("--max_train_samples", f.max_train_samples, "use the first N train examples for calibration / QAT (0 = all)");
  app.add_option("--threads", f.threads, "CPU threads (0 = LibTorch's default)");
  app.add_option("--device", f.device, "cpu or cuda");
  app.add_option("--calibrate", f.calibrate, "calibration batches when no --quantized_model_dir is given");
  app.add_option("--qat_epochs", f.qat_epochs, "range-learning QAT epochs on the train split after calibration");
  app.add_flag("--gradient_checkpointing", f.gradient_checkpointing, "QAT: recompute each layer in backward (less memory, ~1 extra forward)");
  app.add_option("--qat_max_steps", f.qat_max_steps, "stop QAT after N steps (0 = epochs decide)");
  app.add_option("--qat_checkpoint_every", f.qat_checkpoint_every,
                 "QAT: save resumable state to <output_dir>/qat_state every N steps; a rerun resumes from it");
  app.add_option("--backend", f.backend,
                 "sim (default), or int8: also evaluate the W8A8 model with its Linears as integer GEMMs (CPU)");
  app.add_flag("--skip_padding", f.skip_padding,
               "FP32 rows: run the encoder on real tokens only (needs --attention_mask hf; same metrics, faster)");
  app.add_option("--attention_mask", f.attention_mask, "card (default), zoo (-6), hf (-10000) or a number; applies to FP32 and W8A8");
  app.add_option("--weight_bw", f.weight_bw, "weight bitwidth of the simulation made here, 2..32 (default: the card's, 8)");
  app.add_option("--act_bw", f.act_bw, "activation bitwidth of the simulation made here, 4..32 (default: the card's, 8)");
  if (const int rc = qsim::examples::run_reporting_errors("bert_eval", [&] {
        f.dist = qsim::train::DistOptions::from_env();
        return 0;
      });
      rc != 0)
    return rc;
  app.add_option("--world_size", f.dist.world_size, "processes evaluating in parallel (default: $WORLD_SIZE, 1)");
  app.add_option("--rank", f.dist.rank, "this process's rank in [0, world_size) (default: $RANK, 0)");
  app.add_option("--master_addr", f.dist.master_addr, "rank 0's address for the c10d store (default: $MASTER_ADDR, 127.0.0.1)");
  app.add_option("--master_port", f.dist.master_port, "the store's port (default: $MASTER_PORT, 29500)");
  f.sim.add_to(app);
  f.onnx.add_to(app);
  f.adaround.add_to(app);
  f.analysis.add_to(app);
  app.add_flag("--save_logits", f.save_logits, "also write every example's raw outputs to <output_dir>/logits.safetensors");
  CLI11_PARSE(app, argc, argv);
  return qsim::examples::run_reporting_errors("bert_eval", [&] { return run(f); });
}
