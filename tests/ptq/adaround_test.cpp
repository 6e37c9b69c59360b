// AdaRound (qsim/ptq/adaround.hpp):
//  * on a layer small enough to try all 2^n roundings, AdaRound finds the best one
//    where nearest rounding does not;
//  * h(V) at initialisation gives back the float weight;
//  * its optimizer (fused kernels + Adam) follows an autograd reference step by step;
//  * on a golden tiny BERT: every layer's hard result folds into the weight so that
//    the frozen encoding's nearest rounding reproduces it bit for bit, the encodings
//    stay frozen through calibration, the loss falls below nearest rounding, and
//    padded positions never reach the cache or the loss;
//  * bad options are ConfigErrors naming the option.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ptq/layer_capture.hpp"
#include "ptq/soft_rounding.hpp"
#include "qsim/error.hpp"
#include "qsim/ptq/adaround.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "sim/tiny_bert.hpp"
#include "tiny_data.hpp"
#include "support/expect_error.hpp"

namespace qsim::ptq {
namespace {

// A 4-bit symmetric per-tensor grid for `w`.
WeightGrid four_bit_grid(const at::Tensor& w) {
  const double a = w.abs().max().item<double>();
  return WeightGrid::from_encodings({quant::make_encoding(-a, a, 4, quant::Symmetry::symmetric)}, "test");
}

// Mean over rows of Σ_out (x·(Wq − W)ᵀ)² for every choice of up/down per weight of
// one output row, all rows independent: the best total.
double brute_force_best(const at::Tensor& w, const WeightGrid& g, const at::Tensor& x) {
  double total = 0.0;
  const at::Tensor floor = (w / g.delta[0]).floor();
  for (int64_t r = 0; r < w.size(0); ++r) {
    double best = INFINITY;
    const int64_t n = w.size(1);
    for (int64_t choice = 0; choice < (int64_t{1} << n); ++choice) {
      at::Tensor up = at::empty({n});
      for (int64_t i = 0; i < n; ++i) up[i] = static_cast<float>((choice >> i) & 1);
      const at::Tensor q = (floor[r] + up).clamp(g.code_min[0], g.code_max[0]) * g.delta[0];
      best = std::min(best, (x.matmul(q - w[r])).pow(2).sum().item<double>());
    }
    total += best;
  }
  return total / static_cast<double>(x.size(0));
}

TEST(AdaroundTest, FindsTheBestRoundingOfASmallLayer) {
  torch::manual_seed(4);
  const at::Tensor w = torch::randn({3, 10}) * 0.3;
  const at::Tensor x = torch::randn({64, 10}) + torch::randn({1, 10});  // correlated inputs: rounding errors interact
  const WeightGrid grid = four_bit_grid(w);
  const double best = brute_force_best(w, grid, x);
  AdaroundLayerResult r;
  r.name = "small";
  const at::Tensor rounded =
      adaround_weight(w, {}, grid, x, x.matmul(w.t()), AdaroundActivation::none,
                      AdaroundOptions().iterations(4000).batch_rows(64).learning_rate(1e-2).log_every(0), r);
  EXPECT_GT(r.nearest_loss, best * 1.2) << "nearest rounding is not optimal here";
  // AdaRound is a relaxation: within ε = 2 % of the best of all 3·2^10 roundings
  // (measured: 1.05 % above it; nearest rounding is 2.8x the best).
  EXPECT_LE(r.adaround_loss, best * 1.02) << "best " << best << ", nearest " << r.nearest_loss;
  EXPECT_TRUE(at::equal((rounded / grid.delta[0]).round() * grid.delta[0], rounded)) << "Δ times integers";
  EXPECT_GT(r.flipped, 0.0);
}

TEST(AdaroundTest, InitialisationGivesBackTheFloatWeight) {
  torch::manual_seed(1);
  const at::Tensor w = torch::randn({6, 9});
  WeightGrid per_row;
  for (int64_t r = 0; r < 6; ++r) {
    per_row.delta.push_back(0.1f + 0.05f * static_cast<float>(r));
    per_row.code_min.push_back(-128.0f);
    per_row.code_max.push_back(127.0f);
  }
  for (const WeightGrid& grid : {four_bit_grid(w * 0.01), per_row}) {
    const at::Tensor weight = grid.delta.size() > 1 ? w : w * 0.01;
    detail::SoftRounding soft(weight, grid, AdaroundOptions());
    const at::Tensor delta = at::tensor(grid.delta).reshape({-1, 1});
    EXPECT_LE(((soft.soft_weight() - weight).abs() / delta).max().item<double>(), 1e-5);
  }
}

// The same optimization written with autograd and torch::optim::Adam.
TEST(AdaroundTest, OptimizerFollowsAnAutogradReference) {
  torch::manual_seed(2);
  const at::Tensor w = torch::randn({4, 12}) * 0.2, x = torch::randn({32, 12}), b = torch::randn({4});
  const at::Tensor y = torch::nn::functional::linear(x, w, b);
  const WeightGrid grid = four_bit_grid(w);
  const AdaroundOptions options = AdaroundOptions().iterations(20).warm_start(0.25).learning_rate(1e-2).batch_rows(32);
  detail::SoftRounding soft(w, grid, options);
  const double d = grid.delta[0];
  const at::Tensor base = (w / d).floor();
  const at::Tensor frac = w / d - base;
  at::Tensor v = (-torch::log(1.2 / (frac + 0.1) - 1.0)).detach().requires_grad_(true);
  torch::optim::Adam adam({v}, torch::optim::AdamOptions(1e-2));
  for (int64_t it = 0; it < options.iterations(); ++it) {
    // qsim
    const at::Tensor& ws = soft.soft_weight();
    const at::Tensor wq = ws.detach().clone().requires_grad_(true);
    const at::Tensor loss_q = (torch::nn::functional::linear(x, wq, b) - y).pow(2).sum(1).mean();
    loss_q.backward();
    soft.step(wq.grad(), it);
    // reference
    adam.zero_grad();
    const at::Tensor h = (torch::sigmoid(v) * 1.2 - 0.1).clamp(0, 1);
    const at::Tensor wr = (base + h).clamp(grid.code_min[0], grid.code_max[0]) * d;
    at::Tensor loss = (torch::nn::functional::linear(x, wr, b) - y).pow(2).sum(1).mean();
    const double beta = soft.beta(it);
    if (beta > 0) loss = loss + options.reg_weight() * (1 - (2 * h - 1).abs().pow(beta)).sum();
    loss.backward();
    adam.step();
  }
  const at::Tensor h = (torch::sigmoid(v.detach()) * 1.2 - 0.1).clamp(0, 1);
  EXPECT_LE((soft.soft_weight() - (base + h).clamp(grid.code_min[0], grid.code_max[0]) * d).abs().max().item<double>(),
            1e-4 * d);
}

struct Rounded {
  models::bert::BertForTask model{nullptr};
  std::unique_ptr<sim::QuantSim> sim;
  AdaroundResult result;
};

Rounded adaround_tiny(const std::string& profile, const models::bert::AttentionMask& mask, const test::Batch& batch,
                      const AdaroundOptions& options) {
  Rounded r{test::load_tiny(profile, "seqcls2", mask), nullptr, {}};
  r.sim = std::make_unique<sim::QuantSim>(r.model, sim::QuantSimConfig::aimet_default(),
                                          sim::SimOptions().param_bitwidth(4).scheme(sim::QuantScheme::tf));
  r.result = adaround(*r.sim, r.model, test::dataset_of(batch), options);
  return r;
}

AdaroundOptions quick() { return AdaroundOptions().iterations(300).batches(1).batch_size(64).log_every(0); }

TEST(AdaroundTest, HardRoundingFoldsIntoTheFrozenEncodingBitForBit) {
  const test::Batch batch = test::load_batch("sharp");
  Rounded r = adaround_tiny("sharp", models::bert::AttentionMask::zoo(), batch, quick());
  const auto layers = static_cast<std::size_t>(6 * r.model->config.num_hidden_layers + 2);
  ASSERT_EQ(r.result.layers.size(), layers) << "every Linear, pooler and classifier included";
  std::map<std::string, std::vector<quant::Encoding>> before;
  for (const AdaroundLayerResult& l : r.result.layers) {
    SCOPED_TRACE(l.name);
    const std::string slot = l.name + ".weight_quantizer";
    ASSERT_TRUE(r.sim->slot(slot).frozen);
    before[slot] = r.sim->quantizer(slot)->encodings();
    const at::Tensor weight = r.model->named_parameters()[l.name + ".weight"];
    EXPECT_TRUE(at::equal(quant::fake_quantize_static(weight, before[slot]), weight))
        << "the encoding's nearest rounding reproduces the learned choice";
  }
  r.sim->compute_encodings([&](torch::nn::Module&) {
    r.model(batch.input_ids, batch.token_type_ids, batch.attention_mask);
  });
  for (const auto& [slot, encodings] : before) EXPECT_EQ(r.sim->quantizer(slot)->encodings(), encodings) << slot;
}

TEST(AdaroundTest, TheLossFallsBelowNearestRounding) {
  const test::Batch batch = test::load_batch("sharp");
  Rounded r = adaround_tiny("sharp", models::bert::AttentionMask::zoo(), batch, quick().iterations(2000));
  int better = 0;
  for (const AdaroundLayerResult& l : r.result.layers) {
    EXPECT_LE(l.adaround_loss, l.nearest_loss * 1.001) << l.name;
    better += l.adaround_loss < l.nearest_loss ? 1 : 0;
    EXPECT_GT(l.rows, 0);
  }
  EXPECT_GE(better, static_cast<int>(r.result.layers.size()) - 2) << "strictly better almost everywhere";
}

TEST(AdaroundTest, PaddingNeverReachesTheCacheOrTheLoss) {
  const test::Batch batch = test::load_batch("std002", "batch_mask_hf");
  const train::TaskDataset data = test::dataset_of(batch);
  const detail::RowPlan plan = detail::plan_rows(data, 1, data.size(), 1 << 20, 0);
  EXPECT_EQ(plan.tokens[0].numel(), batch.attention_mask.sum().item<int64_t>());
  // Other ids at the padded positions: with the hf mask those keys get exactly zero
  // attention, so only padded rows change — and AdaRound must not see them.
  test::Batch other = batch;
  other.input_ids = batch.input_ids.clone();
  other.input_ids.masked_fill_(batch.attention_mask == 0, 7);
  ASSERT_FALSE(at::equal(other.input_ids, batch.input_ids)) << "the batch has padding";
  const AdaroundOptions options = quick().iterations(100);
  Rounded a = adaround_tiny("std002", models::bert::AttentionMask::hf(), batch, options);
  Rounded b = adaround_tiny("std002", models::bert::AttentionMask::hf(), other, options);
  for (const auto& item : a.model->named_parameters()) {
    EXPECT_TRUE(at::equal(item.value(), b.model->named_parameters()[item.key()])) << item.key();
  }
}

TEST(AdaroundTest, EmbeddingTablesAreRoundedOnTheIdsTheyLookedUp) {
  const test::Batch batch = test::load_batch("std002");
  Rounded r = adaround_tiny("std002", models::bert::AttentionMask::zoo(), batch, quick().embeddings(true));
  ASSERT_EQ(r.result.layers.front().name.rfind("bert.embeddings.", 0), 0u);
  for (const char* table : {"word_embeddings", "position_embeddings", "token_type_embeddings"}) {
    const std::string name = std::string("bert.embeddings.") + table;
    const at::Tensor weight = r.model->named_parameters()[name + ".weight"];
    EXPECT_TRUE(at::equal(quant::fake_quantize_static(weight, r.sim->quantizer(name + ".weight_quantizer")->encodings()),
                          weight))
        << name;
  }
}

TEST(AdaroundTest, BadOptionsAreConfigErrorsNamingTheOption) {
  QSIM_EXPECT_THROW_MSG(validate(AdaroundOptions().reg_weight(-1)), ConfigError, {"reg_weight"});
  QSIM_EXPECT_THROW_MSG(validate(AdaroundOptions().beta_start(2).beta_end(20)), ConfigError, {"beta range 2 -> 20"});
  QSIM_EXPECT_THROW_MSG(validate(AdaroundOptions().iterations(0)), ConfigError, {"iterations"});
  QSIM_EXPECT_THROW_MSG(validate(AdaroundOptions().warm_start(1.0)), ConfigError, {"warm_start"});
  QSIM_EXPECT_THROW_MSG(validate(AdaroundOptions().bitwidth(33)), ConfigError, {"bitwidth 33"});
  const test::Batch batch = test::load_batch("std002");
  models::bert::BertForTask model = test::load_tiny("std002", "seqcls2");
  sim::QuantSim sim(model, sim::QuantSimConfig::aimet_default());
  QSIM_EXPECT_THROW_MSG(adaround(sim, model, test::dataset_of(batch), quick().bitwidth(4)), ConfigError,
                        {"bitwidth 4", "takes 8", "weight_quantizer"});
  models::bert::BertForTask other = test::load_tiny("std002", "seqcls2");
  QSIM_EXPECT_THROW_MSG(adaround(sim, other, test::dataset_of(batch), quick()), ConfigError, {"not the model"});
}

}  // namespace
}  // namespace qsim::ptq
