// A user's program: links qsim::qsim from an installed package and uses its API.
#include <cmath>
#include <iostream>

#include <qsim/qsim.hpp>

int main() {
  std::cout << "qsim " << qsim::version() << "\n";
#if QSIM_WITH_TORCH
  // 8-bit asymmetric encoding of [-1, 1], then fake-quantize a value through it.
  const auto encoding = qsim::quant::make_encoding(-1.0, 1.0, 8, qsim::quant::Symmetry::asymmetric);
  const auto y = qsim::quant::fake_quantize_static(at::full({4}, 0.5f), encoding);
  if (y.size(0) != 4 || std::abs(y[0].item<float>() - 0.5f) > 0.01f) return 1;
#endif
  std::cout << "qsim consumer ok\n";
  return 0;
}
