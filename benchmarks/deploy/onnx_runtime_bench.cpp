// qsim against ONNX Runtime on the same BERT-base-shaped model (random weights,
// 12 layers, hidden 768, zoo mask, batch 8 × sequence 128, 2 threads), exported by
// qsim (deploy::export_onnx: float graph and QDQ model, W8A8 TF encodings from one
// calibration batch). BM_EnginesAlternating runs, per iteration (a round), `kRuns`
// batches of each engine in turn so that drift in the machine's load hits all alike:
//   qsim FP32, qsim W8A8 simulated, qsim W8A8 with int8 Linears (--backend int8),
//   ORT FP32 (all graph optimizations), ORT QDQ unfused (optimizations disabled: Q
//   and DQ run as float ops, a simulation), ORT QDQ with all optimizations (its
//   integer kernels).
// ORT runs in its own Node process (scripts/ort/run_model.js); its times exclude
// the session creation. Counters: each engine's seq/s and ms per batch, and the
// largest logit difference of each ORT row to its qsim twin. Results and the
// command: docs/benchmarks.md, "qsim and ONNX Runtime".
#include <chrono>
#include <filesystem>
#include <functional>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "qsim/deploy/onnx_export.hpp"
#include "qsim/deploy/onnx_runtime.hpp"
#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/sim/int8_backend.hpp"
#include "qsim/sim/quant_sim.hpp"

namespace {

using qsim::deploy::OrtOptimization;
using qsim::deploy::OrtOptions;
using qsim::sim::Mode;

constexpr int64_t kBatch = 8;
constexpr int64_t kLength = 128;
constexpr int kRuns = 3;  // batches per engine per round

struct Fixture {
  Fixture() {
    torch::manual_seed(0);
    qsim::models::bert::BertConfig config;  // BERT-base sizes
    config.head = qsim::models::bert::BertHead::sequence_classification;
    config.id2label = {"LABEL_0", "LABEL_1"};
    config.label2id = {{"LABEL_0", 0}, {"LABEL_1", 1}};
    config.attention_mask = qsim::models::bert::AttentionMask::zoo();
    model = qsim::models::bert::BertForTask(config);
    model->eval();
    inputs = {{"input_ids", torch::randint(config.vocab_size, {kBatch, kLength}, torch::kLong)},
              {"attention_mask", torch::ones({kBatch, kLength}, torch::kLong)},
              {"token_type_ids", torch::zeros({kBatch, kLength}, torch::kLong)}};
    sim = std::make_unique<qsim::sim::QuantSim>(model, qsim::sim::QuantSimConfig::aimet_default(),
                                                qsim::sim::SimOptions().scheme(qsim::sim::QuantScheme::tf));
    sim->compute_encodings([this](torch::nn::Module&) { forward(); });
    dir = std::filesystem::temp_directory_path() / ("qsim_ort_bench_" + std::to_string(::getpid()));
    files = qsim::deploy::export_onnx(*sim, dir.string(), "bert_base");
  }
  ~Fixture() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  torch::Tensor forward() {
    torch::NoGradGuard no_grad;
    return model(inputs.at("input_ids"), inputs.at("token_type_ids"), inputs.at("attention_mask")).logits;
  }

  qsim::models::bert::BertForTask model{nullptr};
  std::map<std::string, torch::Tensor> inputs;
  std::unique_ptr<qsim::sim::QuantSim> sim;
  std::filesystem::path dir;
  qsim::deploy::OnnxExport files;
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// Seconds of `kRuns` forwards of the qsim model as it is now configured.
double qsim_seconds(Fixture& f, torch::Tensor& logits) {
  logits = f.forward();  // warm-up (refills the weight cache a mode change dropped)
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) benchmark::DoNotOptimize(f.forward().data_ptr());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Seconds of `kRuns` ORT runs (session creation excluded) and the logits.
double ort_seconds(Fixture& f, const std::string& model, OrtOptimization level, torch::Tensor& logits) {
  const qsim::deploy::OrtResult r = qsim::deploy::run_onnx_runtime(
      model, f.inputs, OrtOptions().optimization(level).threads(at::get_num_threads()).repeat(kRuns).warmup(1));
  logits = r.outputs.at("logits");
  double ms = 0.0;
  for (const double run : r.runs_ms) ms += run;
  return ms / 1e3;
}

struct Engine {
  const char* name;
  std::function<double(Fixture&, torch::Tensor&)> seconds;
};

void BM_EnginesAlternating(benchmark::State& state) {
  Fixture& f = fixture();
  std::vector<Engine> engines{
      {"qsim_fp32", [](Fixture& x, torch::Tensor& l) { x.sim->set_mode(Mode::fp32); return qsim_seconds(x, l); }},
      {"qsim_w8a8_sim", [](Fixture& x, torch::Tensor& l) { x.sim->set_mode(Mode::quantized); return qsim_seconds(x, l); }},
      {"qsim_int8", [](Fixture& x, torch::Tensor& l) {
         x.sim->set_mode(Mode::quantized);
         qsim::sim::convert_to_int8(x.model);
         const double s = qsim_seconds(x, l);
         qsim::sim::remove_int8(x.model);
         return s;
       }},
      {"ort_fp32", [](Fixture& x, torch::Tensor& l) { return ort_seconds(x, x.files.onnx, OrtOptimization::all, l); }},
      {"ort_qdq_unfused",
       [](Fixture& x, torch::Tensor& l) { return ort_seconds(x, x.files.qdq_onnx, OrtOptimization::disabled, l); }},
      {"ort_qdq_int8", [](Fixture& x, torch::Tensor& l) { return ort_seconds(x, x.files.qdq_onnx, OrtOptimization::all, l); }},
  };
  std::vector<double> total(engines.size(), 0.0);
  std::vector<torch::Tensor> logits(engines.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < engines.size(); ++i) total[i] += engines[i].seconds(f, logits[i]);
  }
  const double runs = static_cast<double>(state.iterations()) * kRuns;
  for (std::size_t i = 0; i < engines.size(); ++i) {
    state.counters[std::string(engines[i].name) + "_seq_per_s"] = runs * kBatch / total[i];
    state.counters[std::string(engines[i].name) + "_ms"] = 1e3 * total[i] / runs;
  }
  const auto diff = [&](std::size_t a, std::size_t b) { return (logits[a] - logits[b]).abs().max().item<double>(); };
  state.counters["ort_fp32_vs_qsim_fp32"] = diff(3, 0);
  state.counters["ort_qdq_unfused_vs_qsim_sim"] = diff(4, 1);
  state.counters["ort_qdq_int8_vs_qsim_sim"] = diff(5, 1);
}

BENCHMARK(BM_EnginesAlternating)->Unit(benchmark::kSecond)->Iterations(3);

}  // namespace
