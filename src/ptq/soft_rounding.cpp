#include "ptq/soft_rounding.hpp"

#include <cmath>

#include <ATen/Parallel.h>

#ifndef _OPENMP
#error "qsim_ptq must be compiled with OpenMP (OpenMP::OpenMP_CXX) to run its loops on ATen's threads"
#endif

namespace qsim::ptq::detail {
namespace {

constexpr int64_t kBlockRows = 16;  // rows per parallel block: fixed, so sums are thread-count independent

// Adam's defaults in torch.optim.Adam (AIMET's optimizer for V).
constexpr float kBeta1 = 0.9f;
constexpr float kBeta2 = 0.999f;
constexpr float kEps = 1e-8f;

}  // namespace

at::Tensor nearest_rounding(const at::Tensor& weight, const WeightGrid& grid) {
  const auto column = [&](const std::vector<float>& v) { return at::tensor(v, at::kFloat).reshape({-1, 1}); };
  const at::Tensor codes = (weight.to(at::kFloat) / column(grid.delta)).round();
  return at::maximum(at::minimum(codes, column(grid.code_max)), column(grid.code_min)) * column(grid.delta);
}

SoftRounding::SoftRounding(const at::Tensor& weight, const WeightGrid& grid, const AdaroundOptions& options)
    : options_(options), grid_(grid), per_row_(grid.delta.size() > 1) {
  weight_ = weight.detach().to(at::kCPU, at::kFloat).contiguous().clone();
  for (std::size_t i = 0; i < grid.delta.size(); ++i) {
    grids_.push_back({grid.delta[i], grid.code_min[i], grid.code_max[i]});
  }
  base_ = at::empty_like(weight_);
  v_ = at::empty_like(weight_);
  sigma_ = at::empty_like(weight_);
  soft_ = at::empty_like(weight_);
  a_ = at::empty_like(weight_);
  a_pow_ = at::empty_like(weight_);
  m_ = at::zeros_like(weight_);
  s_ = at::zeros_like(weight_);
  for_row_blocks([&](int64_t begin, int64_t end) {
    const int64_t at0 = begin * weight_.size(1);
    kernels::cpu::adaround_init(rows(begin, end), weight_.data_ptr<float>() + at0, base_.data_ptr<float>() + at0,
                                v_.data_ptr<float>() + at0);
  });
}

kernels::cpu::AdaroundRows SoftRounding::rows(int64_t begin, int64_t end) const {
  const kernels::cpu::AdaroundGrid* grids = grids_.data() + (per_row_ ? begin : 0);
  return {end - begin, weight_.size(1), grids, per_row_};
}

template <typename Body>
void SoftRounding::for_row_blocks(const Body& body) const {
  const int64_t total = weight_.size(0);
  const int64_t blocks = (total + kBlockRows - 1) / kBlockRows;
  at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) body(b * kBlockRows, std::min(total, (b + 1) * kBlockRows));
  });
}

double SoftRounding::beta(int64_t iteration) const {
  const double warm = options_.warm_start() * static_cast<double>(options_.iterations());
  if (static_cast<double>(iteration) < warm) return 0.0;
  const double relative = (static_cast<double>(iteration) - warm) / (static_cast<double>(options_.iterations()) - warm);
  return options_.beta_end() +
         0.5 * (options_.beta_start() - options_.beta_end()) * (1.0 + std::cos(relative * M_PI));
}

const at::Tensor& SoftRounding::soft_weight() {
  at::sigmoid_out(sigma_, v_);
  const int64_t cols = weight_.size(1);
  for_row_blocks([&](int64_t begin, int64_t end) {
    kernels::cpu::adaround_soft_weight(rows(begin, end), sigma_.data_ptr<float>() + begin * cols,
                                       base_.data_ptr<float>() + begin * cols, soft_.data_ptr<float>() + begin * cols,
                                       a_.data_ptr<float>() + begin * cols);
  });
  return soft_;
}

double SoftRounding::step(const at::Tensor& grad_w, int64_t iteration) {
  const double b = beta(iteration);
  const bool regularized = b > 0.0 && options_.reg_weight() > 0.0;
  if (regularized) at::pow_out(a_pow_, a_, b - 1.0);
  ++adam_steps_;
  const auto t = static_cast<double>(adam_steps_);
  const kernels::cpu::AdamStep adam{static_cast<float>(options_.learning_rate()), kBeta1, kBeta2, kEps,
                                    static_cast<float>(1.0 - std::pow(kBeta1, t)),
                                    static_cast<float>(std::sqrt(1.0 - std::pow(kBeta2, t)))};
  const at::Tensor grad = grad_w.contiguous();
  const int64_t cols = weight_.size(1);
  const int64_t blocks = (weight_.size(0) + kBlockRows - 1) / kBlockRows;
  std::vector<double> partial(static_cast<std::size_t>(blocks), 0.0);
  const auto lambda = regularized ? static_cast<float>(options_.reg_weight()) : 0.0f;
  for_row_blocks([&](int64_t begin, int64_t end) {
    const int64_t o = begin * cols;
    partial[static_cast<std::size_t>(begin / kBlockRows)] = kernels::cpu::adaround_adam_step(
        rows(begin, end), grad.data_ptr<float>() + o, sigma_.data_ptr<float>() + o, base_.data_ptr<float>() + o,
        a_.data_ptr<float>() + o, a_pow_.data_ptr<float>() + o, lambda, static_cast<float>(b), adam,
        v_.data_ptr<float>() + o, m_.data_ptr<float>() + o, s_.data_ptr<float>() + o);
  });
  double sum = 0.0;
  for (const double p : partial) sum += p;  // in block order: the same for any thread count
  return sum;
}

at::Tensor SoftRounding::hard_weight() const {
  at::Tensor out = at::empty_like(weight_);
  const int64_t cols = weight_.size(1);
  for_row_blocks([&](int64_t begin, int64_t end) {
    kernels::cpu::adaround_hard_weight(rows(begin, end), v_.data_ptr<float>() + begin * cols,
                                       base_.data_ptr<float>() + begin * cols, out.data_ptr<float>() + begin * cols);
  });
  return out;
}

at::Tensor SoftRounding::nearest_weight() const { return nearest_rounding(weight_, grid_); }

}  // namespace qsim::ptq::detail
