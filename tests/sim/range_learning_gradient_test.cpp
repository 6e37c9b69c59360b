// Range-learning gradients of a whole tiny BERT (every weight and activation
// quantizer on the learned grid, §5) against central finite differences.
//
// The learned-grid forward is piecewise constant in min/max (every grid point moves
// with Δ), so finite differences of the model itself say nothing; §5.4 defines the
// gradient of a surrogate instead: rounding with an identity derivative and the
// in-range mask held fixed. That surrogate is smooth, so this test builds it
// independently — the reference BERT (reference_bert.hpp) in float64, each quantizer
// replaced by its surrogate with the rounding residuals and masks frozen at the
// calibrated point — and checks that qsim's float32 backward (custom autograd through
// the real model) equals the surrogate's finite differences for every learned min
// and max and for a sample of weights. A missing §5.4 term, a wrong sign or a
// gradient lost between blocks shows up as a mismatch.

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "qsim/quant/range_learning.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "reference_bert.hpp"

namespace qsim::sim {
namespace {

using torch::indexing::Slice;

// One learned quantizer as a smooth function of (x, min, max), frozen at the point
// where it was first evaluated (§5.3 forward there, §5.4 derivative everywhere).
class SurrogateQuantizer {
 public:
  SurrogateQuantizer(quant::LearnedMode mode, int bitwidth, double min, double max)
      : mode_(mode), steps_(std::pow(2.0, bitwidth) - 1.0), min0_(min), max0_(max) {}

  torch::Tensor operator()(const torch::Tensor& x, double min, double max) {
    const double delta = this->delta(min, max);
    const torch::Tensor u = x / delta;
    // Additive constant that makes "round(u)" and "round(z)" exact at the frozen point.
    const double rw = mode_ == quant::LearnedMode::asymmetric ? min / delta + offset_residual_ : offset_;
    if (!frozen_) freeze(u, min / delta);
    const torch::Tensor q = torch::where(in_range_, u + round_residual_ - rw, clamped_q_);
    return (q + rw) * delta;
  }

 private:
  // §5.3's Δ at the frozen point; away from it, the linearisation §5.4 differentiates.
  double delta(double min, double max) const {
    switch (mode_) {
      case quant::LearnedMode::asymmetric: return (max - min) / steps_;
      case quant::LearnedMode::unsigned_symmetric: return (max - min0_) / steps_;  // min gets no gradient
      case quant::LearnedMode::signed_symmetric: {
        const double half = std::floor(steps_ / 2.0);
        return std::max(std::abs(min0_), std::abs(max0_)) / half + ((max - max0_) - (min - min0_)) / half;
      }
    }
    return 0.0;
  }

  void freeze(const torch::Tensor& u, double min_over_delta) {
    if (mode_ == quant::LearnedMode::asymmetric) {
      offset_ = -std::clamp(std::nearbyint(-min_over_delta), 0.0, steps_);
      offset_residual_ = offset_ - min_over_delta;
    } else {
      offset_ = mode_ == quant::LearnedMode::signed_symmetric ? -std::ceil(steps_ / 2.0) : 0.0;
    }
    const torch::Tensor rounded = torch::round(u);  // ties to even, as §5.3
    round_residual_ = rounded - u;
    const torch::Tensor r = rounded - offset_;
    in_range_ = (r >= 0) & (r <= steps_);
    clamped_q_ = r.clamp(0.0, steps_);
    frozen_ = true;
  }

  quant::LearnedMode mode_;
  double steps_, min0_, max0_;
  bool frozen_ = false;
  double offset_ = 0.0, offset_residual_ = 0.0;
  torch::Tensor round_residual_, in_range_, clamped_q_;
};

struct Range {
  double min = 0.0, max = 0.0;
};

// The float64 surrogate of a calibrated range-learning sim: parameters and ranges
// can be perturbed one at a time, everything else stays frozen.
class SurrogateModel {
 public:
  SurrogateModel(const QuantSim& sim, models::bert::BertForTask& model, test::Batch batch, torch::Tensor labels)
      : config_(model->config), batch_(std::move(batch)), labels_(std::move(labels)) {
    for (const auto& [name, tensor] : test::model_params(model)) params_[name] = tensor.to(torch::kDouble);
    for (const QuantizerSlot* slot : sim.active_quantizers()) {
      const quant::QuantizerNodeImpl& node = *slot->node;
      if (node.options.grid() != quant::Grid::learned_grid) continue;
      const Range range{node.encoding_min.item<double>(), node.encoding_max.item<double>()};
      ranges_[slot->name] = range;
      quantizers_.emplace(slot->name,
                          SurrogateQuantizer(quant::learned_mode(node.encoding_min, node.encoding_max, node.options.symmetry()),
                                             node.options.bitwidth(), range.min, range.max));
    }
  }

  double loss() {
    const auto quantize = [this](const std::string& name, const torch::Tensor& x) {
      const auto it = quantizers_.find(name);
      if (it == quantizers_.end() || !at::isFloatingType(x.scalar_type())) return x;
      const Range& r = ranges_.at(name);
      return it->second(x, r.min, r.max);
    };
    const torch::Tensor logits = test::ReferenceBert(config_, params_, quantize).logits(batch_);
    return torch::nn::functional::cross_entropy(logits, labels_).item<double>();
  }

  /// Central difference of the loss in one scalar (a range end or a weight
  /// element) that `set` writes; it is restored to `at` afterwards.
  double derivative(const std::function<void(double)>& set, double at, double step) {
    set(at + step);
    const double up = loss();
    set(at - step);
    const double down = loss();
    set(at);
    return (up - down) / (2.0 * step);
  }

  std::map<std::string, Range>& ranges() { return ranges_; }
  torch::Tensor& param(const std::string& name) { return params_.at(name); }
  std::size_t num_quantizers() const { return quantizers_.size(); }

 private:
  models::bert::BertConfig config_;
  test::Batch batch_;
  torch::Tensor labels_;
  std::unordered_map<std::string, torch::Tensor> params_;
  std::map<std::string, Range> ranges_;
  std::map<std::string, SurrogateQuantizer> quantizers_;
};

struct Check {
  std::string what;
  double analytic, numeric;
};

void expect_agreement(const std::vector<Check>& checks) {
  double scale = 0.0;
  for (const Check& c : checks) scale = std::max(scale, std::abs(c.numeric));
  ASSERT_GT(scale, 1e-3) << "every gradient vanished: the check would be vacuous";
  // Float32 backward vs float64 differences: a 5 % error in one §5.4 term fails this by 20x.
  for (const Check& c : checks) {
    EXPECT_NEAR(c.analytic, c.numeric, 2e-4 * scale + 2e-3 * std::abs(c.numeric)) << c.what;
  }
}

class RangeLearningGradientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = test::load_tiny("sharp", "seqcls3");
    batch_ = test::load_batch("sharp");
    labels_ = torch::arange(batch_.input_ids.size(0), torch::kLong) % model_->config.num_labels;
    sim_ = std::make_unique<QuantSim>(model_, QuantSimConfig::aimet_default(),
                                      SimOptions().scheme(QuantScheme::tf_range_learning));
    sim_->compute_encodings(
        [&](torch::nn::Module&) { model_(batch_.input_ids, batch_.token_type_ids, batch_.attention_mask); });
    ASSERT_EQ(sim_->mode(), Mode::range_learning);
    model_->eval();  // dropout off; gradients still flow
    model_->zero_grad();
    const torch::Tensor logits = model_(batch_.input_ids, batch_.token_type_ids, batch_.attention_mask).logits;
    torch::nn::functional::cross_entropy(logits, labels_).backward();
  }

  models::bert::BertForTask model_{nullptr};
  test::Batch batch_;
  torch::Tensor labels_;
  std::unique_ptr<QuantSim> sim_;
};

TEST_F(RangeLearningGradientTest, SurrogateReproducesTheForwardAtTheCalibratedPoint) {
  SurrogateModel surrogate(*sim_, model_, batch_, labels_);
  ASSERT_GT(surrogate.num_quantizers(), 50u) << "expected every placed quantizer on the learned grid";
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = model_(batch_.input_ids, batch_.token_type_ids, batch_.attention_mask).logits;
  const double loss = torch::nn::functional::cross_entropy(logits, labels_).item<double>();
  EXPECT_NEAR(surrogate.loss(), loss, 1e-4);
}

TEST_F(RangeLearningGradientTest, EveryLearnedRangeMatchesFiniteDifferences) {
  SurrogateModel surrogate(*sim_, model_, batch_, labels_);
  surrogate.loss();  // freezes rounding residuals and masks at the calibrated point
  std::vector<Check> checks;
  int modes_seen[3] = {0, 0, 0};
  for (const QuantizerSlot* slot : sim_->active_quantizers()) {
    auto it = surrogate.ranges().find(slot->name);
    if (it == surrogate.ranges().end()) continue;
    Range& range = it->second;
    const quant::QuantizerNodeImpl& node = *slot->node;
    const quant::LearnedMode mode = quant::learned_mode(node.encoding_min, node.encoding_max, node.options.symmetry());
    ++modes_seen[static_cast<int>(mode)];
    const double step = 1e-4 * (range.max - range.min);
    // Only the smooth parts: a range end sitting on its §5.1 gate (0) has a kink there.
    if (node.encoding_max.grad().defined() && range.max > 0.0) {
      checks.push_back({slot->name + ".max", node.encoding_max.grad().item<double>(),
                        surrogate.derivative([&](double v) { range.max = v; }, range.max, step)});
    }
    if (mode == quant::LearnedMode::unsigned_symmetric) {
      EXPECT_FALSE(node.encoding_min.grad().defined() && node.encoding_min.grad().abs().sum().item<double>() > 0)
          << slot->name << ": unsigned min must get no gradient (§5.4)";
    } else if (range.min < 0.0) {
      ASSERT_TRUE(node.encoding_min.grad().defined()) << slot->name;
      checks.push_back({slot->name + ".min", node.encoding_min.grad().item<double>(),
                        surrogate.derivative([&](double v) { range.min = v; }, range.min, step)});
    }
  }
  EXPECT_GT(modes_seen[static_cast<int>(quant::LearnedMode::asymmetric)], 0);
  EXPECT_GT(modes_seen[static_cast<int>(quant::LearnedMode::signed_symmetric)], 0);
  EXPECT_GT(checks.size(), 80u);
  expect_agreement(checks);
}

TEST_F(RangeLearningGradientTest, WeightsAndBiasesMatchFiniteDifferences) {
  SurrogateModel surrogate(*sim_, model_, batch_, labels_);
  surrogate.loss();
  std::vector<Check> checks;
  const std::vector<std::string> names = {
      "bert.embeddings.word_embeddings.weight",        "bert.encoder.layer.0.attention.self.query.weight",
      "bert.encoder.layer.0.attention.self.value.bias", "bert.encoder.layer.1.intermediate.dense.weight",
      "bert.encoder.layer.1.output.LayerNorm.weight",  "bert.encoder.layer.1.output.LayerNorm.bias",
      "bert.pooler.dense.weight",                      "classifier.weight",
      "classifier.bias"};
  const auto params = model_->named_parameters();
  for (const std::string& name : names) {
    const torch::Tensor grad = params[name].grad().reshape(-1);
    torch::Tensor flat = surrogate.param(name).view(-1);
    // The element with the largest gradient, and one from the middle of the tensor.
    for (const int64_t i : {grad.abs().argmax().item<int64_t>(), flat.numel() / 2}) {
      torch::Tensor element = flat.index({Slice(i, i + 1)});
      const double numeric =
          surrogate.derivative([&](double v) { element.fill_(v); }, element.item<double>(), 1e-5);
      checks.push_back({name + "[" + std::to_string(i) + "]", grad[i].item<double>(), numeric});
    }
  }
  expect_agreement(checks);
}

}  // namespace
}  // namespace qsim::sim
