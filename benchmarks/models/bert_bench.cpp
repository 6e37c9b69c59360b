// FP32 forward of a BERT-base-shaped sequence classifier (random weights): our graph
// of quantizable blocks (every quantizer disabled) vs the same math as plain ATen
// calls on the same weights, in one binary. Counters: seq/s (sequences per second)
// and peak_rss_MiB (getrusage). Results: docs/benchmarks.md.
//
// Shape: BERT-base (12 layers, hidden 768, 12 heads, intermediate 3072), batch 8,
// seq 128, rows padded by 0..56 keys; intra-op threads: QSIM_BENCH_THREADS (default 2).
// Our graph runs padded (the reference) and with skip_padding (real tokens only).
// BM_PlainLibTorch runs before and after BM_QsimBertGraph to expose drift.
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <c10/core/InferenceMode.h>

#include "qsim/models/bert/bert_checkpoint.hpp"
#include "qsim/models/bert/bert_for_task.hpp"
#include "benchmarks/bench_support.hpp"

namespace {

using namespace qsim::models::bert;

constexpr int64_t kBatch = 8;
constexpr int64_t kSeq = 128;

BertConfig base_config() {
  nlohmann::json json = {{"vocab_size", 30522},     {"hidden_size", 768},         {"num_hidden_layers", 12},
                         {"num_attention_heads", 12}, {"intermediate_size", 3072}, {"max_position_embeddings", 512},
                         {"architectures", {"BertForSequenceClassification"}}, {"num_labels", 2}};
  return BertConfig::from_json(json, "bert-base");
}

struct Fixture {
  Fixture() : model(base_config()) {
    model->eval();
    for (const auto& [name, tensor] : hf_state_dict(*model)) weights.emplace(name, tensor.detach());
    input_ids = at::randint(1, model->config.vocab_size, {kBatch, kSeq}, at::kLong);
    token_type_ids = at::zeros({kBatch, kSeq}, at::kLong);
    token_type_ids.narrow(1, kSeq / 2, kSeq / 2).fill_(1);
    attention_mask = at::ones({kBatch, kSeq}, at::kLong);
    for (int64_t b = 0; b < kBatch; ++b) attention_mask[b].narrow(0, kSeq - 8 * b, 8 * b).zero_();
  }
  const at::Tensor& w(const std::string& name) const { return weights.at(name); }

  BertForTask model;
  std::map<std::string, at::Tensor> weights;
  at::Tensor input_ids, token_type_ids, attention_mask;
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// The same math as BertForTask (hf mask), written as plain ATen calls.
at::Tensor plain_forward(const Fixture& f) {
  const BertConfig& c = f.model->config;
  const int64_t B = f.input_ids.size(0), L = f.input_ids.size(1), H = c.hidden_size;
  const int64_t A = c.num_attention_heads, d = H / A;
  const double eps = c.layer_norm_eps;
  const auto ln = [&](const at::Tensor& x, const std::string& p) {
    return at::layer_norm(x, {H}, f.w(p + ".weight"), f.w(p + ".bias"), eps);
  };
  const auto dense = [&](const at::Tensor& x, const std::string& p) {
    return at::linear(x, f.w(p + ".weight"), f.w(p + ".bias"));
  };
  const at::Tensor positions = at::arange(L, at::kLong).unsqueeze(0);
  at::Tensor h = at::embedding(f.w("bert.embeddings.word_embeddings.weight"), f.input_ids, c.pad_token_id) +
                 at::embedding(f.w("bert.embeddings.token_type_embeddings.weight"), f.token_type_ids);
  h = ln(h + at::embedding(f.w("bert.embeddings.position_embeddings.weight"), positions), "bert.embeddings.LayerNorm");
  const at::Tensor ext = (1.0 - f.attention_mask.unsqueeze(1).unsqueeze(2).to(at::kFloat)) * -10000.0;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "bert.encoder.layer." + std::to_string(i) + ".";
    const auto heads = [&](const at::Tensor& x) { return x.view({B, L, A, d}).permute({0, 2, 1, 3}); };
    const at::Tensor q = heads(dense(h, p + "attention.self.query"));
    const at::Tensor k = heads(dense(h, p + "attention.self.key"));
    const at::Tensor v = heads(dense(h, p + "attention.self.value"));
    const at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(d)) + ext;
    const at::Tensor context = at::matmul(at::softmax(scores, -1), v).permute({0, 2, 1, 3}).reshape({B, L, H});
    const at::Tensor attended = ln(dense(context, p + "attention.output.dense") + h, p + "attention.output.LayerNorm");
    const at::Tensor inner = at::gelu(dense(attended, p + "intermediate.dense"));
    h = ln(dense(inner, p + "output.dense") + attended, p + "output.LayerNorm");
  }
  const at::Tensor pooled = at::tanh(dense(h.select(1, 0), "bert.pooler.dense"));
  return dense(pooled, "classifier");
}

void report(benchmark::State& state) {
  state.counters["seq/s"] = benchmark::Counter(static_cast<double>(state.iterations() * kBatch),
                                               benchmark::Counter::kIsRate);
  state.counters["peak_rss_MiB"] = qsim::bench::peak_rss_mib();
}

void BM_PlainLibTorch(benchmark::State& state) {
  Fixture& f = fixture();
  c10::InferenceMode inference;
  for (auto _ : state) benchmark::DoNotOptimize(plain_forward(f));
  report(state);
}

// skip_padding: the encoder runs on the real tokens only (BertModelImpl::skip_padding),
// as PyTorch's nested-tensor fast path does.
void BM_QsimBertGraph(benchmark::State& state, bool skip_padding) {
  Fixture& f = fixture();
  c10::InferenceMode inference;
  f.model->bert->skip_padding = skip_padding;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.model->forward(f.input_ids, f.token_type_ids, f.attention_mask).logits);
  }
  f.model->bert->skip_padding = false;
  report(state);
}

// The two agree (same weights, same math): checked once before timing.
void BM_Agreement(benchmark::State& state) {
  Fixture& f = fixture();
  c10::InferenceMode inference;
  double error = 0.0, skip_error = 0.0;
  for (auto _ : state) {
    const at::Tensor plain = plain_forward(f);
    error = (f.model->forward(f.input_ids, f.token_type_ids, f.attention_mask).logits - plain).abs().max().item<double>();
    f.model->bert->skip_padding = true;
    skip_error =
        (f.model->forward(f.input_ids, f.token_type_ids, f.attention_mask).logits - plain).abs().max().item<double>();
    f.model->bert->skip_padding = false;
  }
  state.counters["max_abs_diff"] = error;
  state.counters["skip_padding_max_abs_diff"] = skip_error;
}

}  // namespace

BENCHMARK(BM_Agreement)->Iterations(1)->Unit(benchmark::kMillisecond);
// Wall time: ATen's intra-op threads do the work, so the main thread's CPU time
// understates it; seq/s is therefore a wall-clock rate.
BENCHMARK(BM_PlainLibTorch)->Unit(benchmark::kMillisecond)->MinTime(10.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_QsimBertGraph, padded, false)->Unit(benchmark::kMillisecond)->MinTime(10.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_QsimBertGraph, skip_padding, true)->Unit(benchmark::kMillisecond)->MinTime(10.0)->UseRealTime();
BENCHMARK(BM_PlainLibTorch)->Unit(benchmark::kMillisecond)->MinTime(10.0)->UseRealTime()->Name("BM_PlainLibTorch/again");
