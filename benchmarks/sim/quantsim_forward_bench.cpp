// QuantSim overhead on a BERT-base-shaped model (random weights, 12 layers,
// hidden 768, batch 8, sequence 128, 2 threads): the same model object in FP32
// mode and in quantized mode (W8A8, AIMET default config, TF encodings from one
// calibration batch), and in range-learning mode (learned grid forward, no grad).
// Target: quantized / FP32 ≤ 1.25. Results and the command: docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "qsim/models/bert/bert_for_task.hpp"
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

Fixture& fixture() {
  static Fixture f;
  return f;
}

void run(benchmark::State& state, Mode mode) {
  Fixture& f = fixture();
  f.sim->set_mode(mode);
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(f.forward().data_ptr());
  state.SetItemsProcessed(state.iterations() * kBatch * kLength);
}

void BM_Fp32Forward(benchmark::State& state) { run(state, Mode::fp32); }
void BM_QuantizedForward(benchmark::State& state) { run(state, Mode::quantized); }
void BM_RangeLearningForward(benchmark::State& state) { run(state, Mode::range_learning); }

BENCHMARK(BM_Fp32Forward)->Unit(benchmark::kMillisecond)->MinTime(5.0);
BENCHMARK(BM_QuantizedForward)->Unit(benchmark::kMillisecond)->MinTime(5.0);
BENCHMARK(BM_RangeLearningForward)->Unit(benchmark::kMillisecond)->MinTime(5.0);

}  // namespace
