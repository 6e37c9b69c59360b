// One FP32 training step vs one QAT (range-learning) step, and FP32 vs W8A8
// evaluation throughput, on a BERT-base-shaped model with random weights (batch 8,
// seq 128, 2 threads unless QSIM_BENCH_THREADS says otherwise). The same model object
// serves every mode, as QuantSim does. Peak memory: run one benchmark per process
// (--benchmark_filter) and read the peak_rss_MiB counter (getrusage max RSS).
// QSIM_BENCH_DEVICE=cuda runs model, data and quantizers on the GPU (each iteration
// ends with a device synchronisation); QSIM_BENCH_BATCH sets the batch (gpu-check: 32).
//
//   build/dev/benchmarks/train/train_bench --benchmark_filter="^BM_Fp32TrainStep/"
#include <cstdlib>
#include <string>

#include <benchmark/benchmark.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "qsim/train/predict.hpp"
#include "qsim/train/trainer.hpp"
#include "benchmarks/bench_support.hpp"

namespace {

using namespace qsim;

constexpr int64_t kSeq = 128;

int64_t batch_size() {
  const char* v = std::getenv("QSIM_BENCH_BATCH");
  return v != nullptr ? std::stoll(v) : 8;
}
const int64_t kBatch = batch_size();

torch::Device bench_device() {
  const char* v = std::getenv("QSIM_BENCH_DEVICE");
  return torch::Device(v != nullptr ? v : "cpu");
}
const torch::Device kDevice = bench_device();

// Kernels are asynchronous on CUDA: an iteration ends when the device is done.
void finish_iteration() {
  if (kDevice.is_cuda()) torch::cuda::synchronize();
}

void device_counters(benchmark::State& state) {
  state.counters["peak_rss_MiB"] = bench::peak_rss_mib();
  state.counters["batch"] = static_cast<double>(kBatch);
  state.SetLabel(kDevice.str());
}

models::bert::BertForTask base_model() {
  nlohmann::json json = {{"architectures", {"BertForSequenceClassification"}}, {"num_labels", 2}};
  auto config = models::bert::BertConfig::from_json(json, "bert-base shape");
  config.attention_mask = models::bert::AttentionMask::zoo();
  torch::manual_seed(0);
  models::bert::BertForTask model(config);
  model->to(kDevice);
  return model;
}

train::TaskDataset random_data(int64_t n, int64_t vocab) {
  train::TaskDataset data;
  data.input_ids = torch::randint(vocab, {n, kSeq}, torch::kLong);
  data.token_type_ids = torch::zeros({n, kSeq}, torch::kLong);
  data.attention_mask = torch::ones({n, kSeq}, torch::kLong);
  data.labels = torch::randint(2, {n}, torch::kLong);
  return data.to(kDevice);
}

// Calibrated sim in the requested mode (range_learning or quantized).
std::unique_ptr<sim::QuantSim> make_sim(models::bert::BertForTask& model, const train::TaskDataset& data) {
  auto quantsim = std::make_unique<sim::QuantSim>(model, sim::QuantSimConfig::aimet_default(),
                                                  sim::SimOptions().scheme(sim::QuantScheme::tf_range_learning));
  quantsim->compute_encodings([&](torch::nn::Module&) { train::run_batches(model, data, kBatch, 1, kDevice); });
  return quantsim;
}

void train_steps(benchmark::State& state, bool qat, bool checkpointing = false) {
  auto model = base_model();
  const train::TaskDataset data = random_data(kBatch * 4, model->config.vocab_size);
  std::unique_ptr<sim::QuantSim> quantsim;
  if (qat) {
    quantsim = make_sim(model, data);
    quantsim->set_mode(sim::Mode::range_learning);
  }
  train::Trainer trainer(model,
                         train::TrainOptions().batch_size(kBatch).log_every(0).gradient_checkpointing(checkpointing));
  const train::TaskBatch batch = data.batch(0, kBatch);
  trainer.train_step(batch);  // warm-up: AdamW state allocated
  finish_iteration();
  for (auto _ : state) {
    benchmark::DoNotOptimize(trainer.train_step(batch));
    finish_iteration();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  device_counters(state);
}

void eval_batches(benchmark::State& state, bool w8a8) {
  auto model = base_model();
  const train::TaskDataset data = random_data(kBatch, model->config.vocab_size);
  std::unique_ptr<sim::QuantSim> quantsim;
  if (w8a8) {
    quantsim = make_sim(model, data);
    quantsim->set_mode(sim::Mode::quantized);
  }
  train::PredictOptions options;
  options.batch_size = kBatch;
  options.device = kDevice;
  train::predict(model, data, options);  // warm-up: first-call library initialisation
  finish_iteration();
  for (auto _ : state) {
    const auto predictions = train::predict(model, data, options);
    benchmark::DoNotOptimize(predictions.logits.data_ptr());
    finish_iteration();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);  // sequences
  device_counters(state);
}

void BM_Fp32TrainStep(benchmark::State& state) { train_steps(state, false); }
void BM_QatTrainStep(benchmark::State& state) { train_steps(state, true); }
// Gradient checkpointing (each encoder layer recomputed in backward).
void BM_Fp32TrainStepCheckpointed(benchmark::State& state) { train_steps(state, false, true); }
void BM_QatTrainStepCheckpointed(benchmark::State& state) { train_steps(state, true, true); }
void BM_Fp32Eval(benchmark::State& state) { eval_batches(state, false); }
void BM_W8A8Eval(benchmark::State& state) { eval_batches(state, true); }

BENCHMARK(BM_Fp32TrainStep)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_QatTrainStep)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_Fp32TrainStepCheckpointed)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_QatTrainStepCheckpointed)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_Fp32Eval)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_W8A8Eval)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
