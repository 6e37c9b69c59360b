// AdaRound of one layer (qsim/ptq/adaround.hpp): the optimization loop around
// SoftRounding for a Linear (a GEMM pair per step) and for an embedding table.

#include <chrono>
#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "detail/check.hpp"
#include "ptq/soft_rounding.hpp"
#include "qsim/log.hpp"
#include "qsim/quant/static_grid.hpp"

namespace qsim::ptq {
namespace {

using Clock = std::chrono::steady_clock;

// The cached rows in a fresh random order for each pass over them (seeded).
class RowSampler {
 public:
  RowSampler(int64_t rows, int64_t batch, uint64_t seed) : rows_(rows), batch_(std::min(batch, rows)) {
    generator_ = at::make_generator<at::CPUGeneratorImpl>(seed);
    shuffle();
  }
  at::Tensor next() {
    if (at_ + batch_ > rows_) shuffle();
    const at::Tensor out = order_.narrow(0, at_, batch_);
    at_ += batch_;
    return out;
  }
  int64_t batch() const { return batch_; }

 private:
  void shuffle() {
    order_ = at::randperm(rows_, generator_, at::TensorOptions().dtype(at::kLong));
    at_ = 0;
  }
  int64_t rows_, batch_, at_ = 0;
  at::Generator generator_;
  at::Tensor order_;
};

void activate(AdaroundActivation activation, const at::Tensor& pre, at::Tensor& out) {
  switch (activation) {
    case AdaroundActivation::none: out.copy_(pre); break;
    case AdaroundActivation::gelu: at::gelu_out(out, pre); break;
    case AdaroundActivation::tanh: at::tanh_out(out, pre); break;
  }
}

at::Tensor activated(AdaroundActivation activation, const at::Tensor& pre) {
  at::Tensor out = at::empty_like(pre);
  activate(activation, pre, out);
  return out;
}

// dL/d(pre) from dL/d(act) (`grad`) in place of `grad`.
void activation_backward(AdaroundActivation activation, const at::Tensor& pre, const at::Tensor& act, at::Tensor& grad,
                         at::Tensor& scratch) {
  switch (activation) {
    case AdaroundActivation::none: break;
    case AdaroundActivation::gelu:
      at::gelu_backward_out(scratch, grad, pre);
      grad.copy_(scratch);
      break;
    case AdaroundActivation::tanh:
      at::tanh_backward_out(scratch, grad, act);
      grad.copy_(scratch);
      break;
  }
}

// Mean over rows of Σ_out (act(x·Wᵀ + b) − target)², in chunks of rows.
double reconstruction_loss(const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& inputs,
                           const at::Tensor& target, AdaroundActivation activation) {
  constexpr int64_t kChunk = 1024;
  double sum = 0.0;
  for (int64_t begin = 0; begin < inputs.size(0); begin += kChunk) {
    const int64_t n = std::min(kChunk, inputs.size(0) - begin);
    const at::Tensor y = activated(activation, at::linear(inputs.narrow(0, begin, n), weight, bias));
    sum += (y - target.narrow(0, begin, n)).pow(2).sum().item<double>();
  }
  return sum / static_cast<double>(inputs.size(0));
}

void check_grid(const WeightGrid& grid, int64_t rows, const char* what) {
  QSIM_CHECK(!grid.delta.empty() && grid.delta.size() == grid.code_min.size() &&
                 grid.delta.size() == grid.code_max.size() &&
                 (grid.delta.size() == 1 || static_cast<int64_t>(grid.delta.size()) == rows),
             ConfigError, "adaround: {} has {} rows but its grid {} channels", what, rows, grid.delta.size());
}

void log_step(const AdaroundLayerResult& r, int64_t iteration, double recon, double rounding, double beta) {
  logger()->info("adaround: {} step {}/{}: reconstruction {:.4g}, rounding {:.4g} (beta {:.2f})", r.name, iteration,
                 r.iterations, recon, rounding, beta);
}

void finish(AdaroundLayerResult& r, const at::Tensor& hard, const at::Tensor& nearest, Clock::time_point start) {
  r.flipped = (hard != nearest).to(at::kDouble).mean().item<double>();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  logger()->info("adaround: {} done: reconstruction {:.4g} (nearest rounding {:.4g}), {:.2f} % rounded the other way, "
                 "{:.1f} s",
                 r.name, r.adaround_loss, r.nearest_loss, 100.0 * r.flipped, r.seconds);
}

}  // namespace

void validate(const AdaroundOptions& o) {
  QSIM_CHECK(o.iterations() > 0, ConfigError, "adaround: iterations must be > 0, got {}", o.iterations());
  QSIM_CHECK(std::isfinite(o.reg_weight()) && o.reg_weight() >= 0.0, ConfigError,
             "adaround: reg_weight (lambda) must be >= 0, got {}", o.reg_weight());
  QSIM_CHECK(o.beta_end() > 0.0 && o.beta_start() >= o.beta_end(), ConfigError,
             "adaround: beta range {} -> {}: it is annealed from beta_start down to beta_end, start >= end > 0",
             o.beta_start(), o.beta_end());
  QSIM_CHECK(o.warm_start() >= 0.0 && o.warm_start() < 1.0, ConfigError,
             "adaround: warm_start must be in [0, 1), got {}", o.warm_start());
  QSIM_CHECK(o.learning_rate() > 0.0 && std::isfinite(o.learning_rate()), ConfigError,
             "adaround: learning_rate must be > 0, got {}", o.learning_rate());
  QSIM_CHECK(o.batch_rows() > 0 && o.max_rows() > 0, ConfigError,
             "adaround: batch_rows ({}) and max_rows ({}) must be > 0", o.batch_rows(), o.max_rows());
  QSIM_CHECK(o.batches() > 0 && o.batch_size() > 0, ConfigError,
             "adaround: batches ({}) and batch_size ({}) must be > 0", o.batches(), o.batch_size());
  QSIM_CHECK(o.bitwidth() == 0 || (o.bitwidth() >= 2 && o.bitwidth() <= 32), ConfigError,
             "adaround: bitwidth {} is not one a weight quantizer takes (2..32, or 0 for each quantizer's own)",
             o.bitwidth());
}

WeightGrid WeightGrid::from_encodings(const std::vector<quant::Encoding>& encodings, const std::string& what) {
  WeightGrid grid;
  for (const quant::Encoding& e : encodings) {
    const quant::StaticGridParams p = quant::static_grid_params(e, what);
    grid.delta.push_back(static_cast<float>(p.delta));
    grid.code_min.push_back(static_cast<float>(p.offset));
    grid.code_max.push_back(static_cast<float>(p.offset + p.steps));
  }
  QSIM_CHECK(!grid.delta.empty(), ConfigError, "adaround: {} has no encoding", what);
  return grid;
}

at::Tensor adaround_weight(const at::Tensor& weight, const at::Tensor& bias, const WeightGrid& grid,
                           const at::Tensor& inputs, const at::Tensor& targets, AdaroundActivation activation,
                           const AdaroundOptions& options, AdaroundLayerResult& result) {
  validate(options);
  QSIM_CHECK(weight.dim() == 2 && inputs.dim() == 2 && targets.dim() == 2 && inputs.size(0) > 0 &&
                 inputs.size(0) == targets.size(0) && inputs.size(1) == weight.size(1) &&
                 targets.size(1) == weight.size(0),
             ValueError, "adaround: {}: weight {}, inputs {}, targets {} do not fit y = x·Wᵀ", result.name,
             c10::str(weight.sizes()), c10::str(inputs.sizes()), c10::str(targets.sizes()));
  check_grid(grid, weight.size(0), result.name.c_str());
  const auto start = Clock::now();
  const at::Tensor x_all = inputs.to(at::kFloat).contiguous();
  const at::Tensor target = activated(activation, targets.to(at::kFloat).contiguous());
  const at::Tensor b = bias.defined() ? bias.detach().to(at::kFloat).contiguous() : bias;
  detail::SoftRounding soft(weight, grid, options);
  result.shape = weight.sizes().vec();
  result.rows = inputs.size(0);
  result.iterations = options.iterations();
  const at::Tensor nearest = soft.nearest_weight();
  result.nearest_loss = reconstruction_loss(nearest, b, x_all, target, activation);

  RowSampler sampler(result.rows, options.batch_rows(), options.seed());
  const int64_t n = sampler.batch();
  at::Tensor xb = at::empty({n, weight.size(1)}), tb = at::empty({n, weight.size(0)});
  at::Tensor pre = at::empty_like(tb), act = at::empty_like(tb), diff = at::empty_like(tb), scratch = at::empty_like(tb);
  at::Tensor grad_w = at::empty_like(nearest);
  for (int64_t it = 0; it < options.iterations(); ++it) {
    const at::Tensor index = sampler.next();
    at::index_select_out(xb, x_all, 0, index);
    at::index_select_out(tb, target, 0, index);
    const at::Tensor& w = soft.soft_weight();
    if (b.defined()) {
      at::addmm_out(pre, b, xb, w.t());
    } else {
      at::mm_out(pre, xb, w.t());
    }
    activate(activation, pre, act);
    at::sub_out(diff, act, tb);
    const bool log = options.log_every() > 0 && (it + 1) % options.log_every() == 0;
    const double recon = log ? diff.pow(2).sum().item<double>() / static_cast<double>(n) : 0.0;
    diff.mul_(2.0 / static_cast<double>(n));  // d(mean Σ diff²)/d(act)
    activation_backward(activation, pre, act, diff, scratch);
    at::mm_out(grad_w, diff.t(), xb);
    result.rounding_loss = soft.step(grad_w, it);
    if (log) log_step(result, it + 1, recon, result.rounding_loss, soft.beta(it));
  }
  const at::Tensor hard = soft.hard_weight();
  result.adaround_loss = reconstruction_loss(hard, b, x_all, target, activation);
  finish(result, hard, nearest, start);
  return hard;
}

at::Tensor adaround_embedding(const at::Tensor& table, const WeightGrid& grid, const at::Tensor& ids,
                              const AdaroundOptions& options, AdaroundLayerResult& result) {
  validate(options);
  QSIM_CHECK(table.dim() == 2 && ids.dim() == 1 && ids.numel() > 0, ValueError,
             "adaround: {}: table {} and ids {}: expected [V, dim] and a non-empty 1-D list", result.name,
             c10::str(table.sizes()), c10::str(ids.sizes()));
  check_grid(grid, table.size(0), result.name.c_str());
  const auto start = Clock::now();
  const at::Tensor full = table.detach().to(at::kFloat).contiguous();
  // Only the rows that were looked up have data; the others get nearest rounding,
  // which is where the regularizer alone would take them.
  const auto [used, inverse] = at::_unique(ids.to(at::kLong), /*sorted=*/true, /*return_inverse=*/true);
  WeightGrid sub = grid;
  if (grid.delta.size() > 1) {
    sub = {};
    for (int64_t i = 0; i < used.numel(); ++i) {
      const auto r = static_cast<std::size_t>(used[i].item<int64_t>());
      sub.delta.push_back(grid.delta[r]);
      sub.code_min.push_back(grid.code_min[r]);
      sub.code_max.push_back(grid.code_max[r]);
    }
  }
  const at::Tensor rows = full.index_select(0, used);
  detail::SoftRounding soft(rows, sub, options);
  result.shape = table.sizes().vec();
  result.rows = ids.numel();
  result.iterations = options.iterations();
  const at::Tensor loss_of = rows.index_select(0, inverse);
  const auto loss = [&](const at::Tensor& w) {
    return (w.index_select(0, inverse) - loss_of).pow(2).sum().item<double>() / static_cast<double>(result.rows);
  };
  const at::Tensor nearest_rows = soft.nearest_weight();
  result.nearest_loss = loss(nearest_rows);

  RowSampler sampler(result.rows, options.batch_rows(), options.seed());
  const int64_t n = sampler.batch();
  at::Tensor picked = at::empty({n}, at::kLong), got = at::empty({n, table.size(1)}), want = at::empty_like(got);
  at::Tensor diff = at::empty_like(got), grad_w = at::zeros_like(rows);
  for (int64_t it = 0; it < options.iterations(); ++it) {
    at::index_select_out(picked, inverse, 0, sampler.next());
    at::index_select_out(got, soft.soft_weight(), 0, picked);
    at::index_select_out(want, rows, 0, picked);
    at::sub_out(diff, got, want);
    const bool log = options.log_every() > 0 && (it + 1) % options.log_every() == 0;
    const double recon = log ? diff.pow(2).sum().item<double>() / static_cast<double>(n) : 0.0;
    diff.mul_(2.0 / static_cast<double>(n));
    grad_w.zero_();
    grad_w.index_add_(0, picked, diff);
    result.rounding_loss = soft.step(grad_w, it);
    if (log) log_step(result, it + 1, recon, result.rounding_loss, soft.beta(it));
  }
  const at::Tensor hard_rows = soft.hard_weight();
  result.adaround_loss = loss(hard_rows);
  at::Tensor out = detail::nearest_rounding(full, grid);
  const at::Tensor nearest_full = out.clone();
  out.index_copy_(0, used, hard_rows);
  finish(result, out, nearest_full, start);
  return out;
}

nlohmann::json AdaroundLayerResult::to_json() const {
  return {{"name", name},
          {"shape", shape},
          {"rows", rows},
          {"iterations", iterations},
          {"nearest_loss", nearest_loss},
          {"adaround_loss", adaround_loss},
          {"rounding_loss", rounding_loss},
          {"flipped", flipped},
          {"seconds", seconds}};
}

nlohmann::json AdaroundResult::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const AdaroundLayerResult& l : layers) list.push_back(l.to_json());
  return {{"layers", list}, {"seconds", seconds}};
}

}  // namespace qsim::ptq
