// QuantSim overhead on a BERT-base-shaped model (random weights, 12 layers,
// hidden 768, batch 8, sequence 128, 2 threads): the same model object in FP32
// mode, in quantized mode (W8A8, AIMET default config, TF encodings from one
// calibration batch) with fused quantizers and with fusion off, and in
// range-learning mode (learned grid forward, no grad). BM_ModesAlternating times
// one forward of each per iteration, in turn (each after the same untimed warm-up,
// time_mode), so that drift in the machine's load hits every mode alike; its
// counters are each mode's mean wall time and the ratios to FP32, and
// max_abs_diff (quantized vs FP32 logits, > 0: the quantizers really run).
// Target: quantized / FP32 ≤ 1.05. BM_Int8Alternating: FP32, simulated W8A8 and
// the same W8A8 model with its Linears as integer GEMMs (sim/int8_backend.hpp),
// with the FFNs on codes and with floats between their Linears (int8_float_ffn),
// in turn; counters as above plus int8_max_abs_diff (integer vs simulated logits).
// Results and the command: docs/benchmarks.md.
#include <chrono>
#include <functional>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "kernels/cpu/fake_quant_cpu.hpp"
#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/quant/prepared_fake_quant.hpp"
#include "qsim/sim/int8_backend.hpp"
#include "qsim/sim/quant_sim.hpp"

namespace {

using qsim::models::bert::BertConfig;
using qsim::models::bert::BertForTask;
using qsim::sim::Mode;
using qsim::sim::QuantSim;

constexpr int64_t kBatch = 8;
constexpr int64_t kLength = 128;

struct Fixture {
  Fixture() {
    torch::manual_seed(0);
    BertConfig config;  // BERT-base sizes
    config.head = qsim::models::bert::BertHead::sequence_classification;
    config.id2label = {"LABEL_0", "LABEL_1"};
    config.label2id = {{"LABEL_0", 0}, {"LABEL_1", 1}};
    config.attention_mask = qsim::models::bert::AttentionMask::zoo();
    model = BertForTask(config);
    model->eval();
    ids = torch::randint(config.vocab_size, {kBatch, kLength}, torch::kLong);
    types = torch::zeros({kBatch, kLength}, torch::kLong);
    mask = torch::ones({kBatch, kLength}, torch::kLong);
    sim = std::make_unique<QuantSim>(model, qsim::sim::QuantSimConfig::aimet_default(),
                                     qsim::sim::SimOptions().scheme(qsim::sim::QuantScheme::tf));
    sim->compute_encodings([this](torch::nn::Module&) { forward(); });
  }
  torch::Tensor forward() { return model(ids, types, mask).logits; }

  BertForTask model{nullptr};
  torch::Tensor ids, types, mask;
  std::unique_ptr<QuantSim> sim;
};

// Range learning switches a model's quantizers to the learned grid for good (its
// quantized mode then runs the learned encodings, as after QAT), so it gets a model
// of its own: the static-grid figures never run a learned quantizer.
Fixture& fixture() {
  static Fixture f;
  return f;
}

Fixture& learned_fixture() {
  static Fixture f;
  return f;
}

void run(benchmark::State& state, Mode mode) {
  Fixture& f = mode == Mode::range_learning ? learned_fixture() : fixture();
  f.sim->set_mode(mode);
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(f.forward().data_ptr());
  state.SetItemsProcessed(state.iterations() * kBatch * kLength);
}

void BM_Fp32Forward(benchmark::State& state) { run(state, Mode::fp32); }
void BM_QuantizedForward(benchmark::State& state) { run(state, Mode::quantized); }
void BM_RangeLearningForward(benchmark::State& state) { run(state, Mode::range_learning); }

double seconds(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Each mode in turn gets the same treatment: switched to, kWarmUp untimed forwards
// (the first after a switch refills the weight caches; later ones settle the
// allocator's and the CPU caches' state), then one timed forward.
constexpr int kWarmUp = 2;

double time_mode(Fixture& f, Mode mode, const std::function<void()>& before = {}) {
  f.sim->set_mode(mode);
  if (before) before();
  for (int i = 0; i < kWarmUp; ++i) f.forward();
  return seconds([&] { benchmark::DoNotOptimize(f.forward().data_ptr()); });
}

void BM_ModesAlternating(benchmark::State& state) {
  Fixture& f = fixture();
  torch::NoGradGuard no_grad;
  f.sim->set_mode(Mode::fp32);
  const torch::Tensor fp32 = f.forward();
  f.sim->set_mode(Mode::quantized);
  const double diff = (f.forward() - fp32).abs().max().item<double>();
  double t_fp32 = 0, t_quant = 0, t_quant_avx2 = 0, t_unfused = 0, t_learned = 0;
  for (auto _ : state) {
    t_fp32 += time_mode(f, Mode::fp32);
    t_quant += time_mode(f, Mode::quantized);
    {
      qsim::kernels::cpu::set_avx512_enabled(false);  // the same, fake quant on its AVX2 loops
      t_quant_avx2 += time_mode(f, Mode::quantized);
      qsim::kernels::cpu::set_avx512_enabled(true);
    }
    {
      const qsim::quant::FusionGuard off(false);
      t_unfused += time_mode(f, Mode::quantized);
    }
    t_learned += time_mode(learned_fixture(), Mode::range_learning);
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["fp32_ms"] = 1e3 * t_fp32 / n;
  state.counters["quantized_ms"] = 1e3 * t_quant / n;
  state.counters["unfused_ms"] = 1e3 * t_unfused / n;
  state.counters["range_learning_ms"] = 1e3 * t_learned / n;
  state.counters["quantized_ratio"] = t_quant / t_fp32;
  state.counters["quantized_avx2_ratio"] = t_quant_avx2 / t_fp32;
  state.counters["unfused_ratio"] = t_unfused / t_fp32;
  state.counters["range_learning_ratio"] = t_learned / t_fp32;
  state.counters["max_abs_diff"] = diff;
}

void BM_Int8Alternating(benchmark::State& state) {
  Fixture& f = fixture();
  torch::NoGradGuard no_grad;
  f.sim->set_mode(Mode::quantized);
  const torch::Tensor simulated = f.forward();
  const auto conversion = qsim::sim::convert_to_int8(f.model);
  const double diff = (f.forward() - simulated).abs().max().item<double>();
  qsim::sim::remove_int8(f.model);
  double t_fp32 = 0, t_sim = 0, t_int8 = 0, t_int8_float_ffn = 0;
  // A fresh conversion builds its oneDNN primitives on the first forward: the
  // same untimed warm-up as every mode.
  const auto time_int8 = [&](const qsim::sim::Int8Options& options) {
    const double t = time_mode(f, Mode::quantized, [&] { qsim::sim::convert_to_int8(f.model, options); });
    qsim::sim::remove_int8(f.model);
    return t;
  };
  for (auto _ : state) {
    t_fp32 += time_mode(f, Mode::fp32);
    t_sim += time_mode(f, Mode::quantized);
    t_int8 += time_int8(qsim::sim::Int8Options{});
    t_int8_float_ffn += time_int8(qsim::sim::Int8Options{false});
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["fp32_ms"] = 1e3 * t_fp32 / n;
  state.counters["w8a8_sim_ms"] = 1e3 * t_sim / n;
  state.counters["int8_ms"] = 1e3 * t_int8 / n;
  state.counters["int8_float_ffn_ms"] = 1e3 * t_int8_float_ffn / n;
  state.counters["int8_seq_per_s"] = n * kBatch / t_int8;
  state.counters["fp32_seq_per_s"] = n * kBatch / t_fp32;
  state.counters["w8a8_sim_seq_per_s"] = n * kBatch / t_sim;
  state.counters["integer_linears"] = static_cast<double>(conversion.integer.size());
  state.counters["gelus_on_codes"] = static_cast<double>(conversion.on_codes.size());
  state.counters["int8_max_abs_diff"] = diff;
}

BENCHMARK(BM_Fp32Forward)->Unit(benchmark::kMillisecond)->MinTime(5.0);
BENCHMARK(BM_QuantizedForward)->Unit(benchmark::kMillisecond)->MinTime(5.0);
BENCHMARK(BM_RangeLearningForward)->Unit(benchmark::kMillisecond)->MinTime(5.0);
BENCHMARK(BM_ModesAlternating)->Unit(benchmark::kMillisecond)->Iterations(10);
BENCHMARK(BM_Int8Alternating)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
