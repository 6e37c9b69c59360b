#pragma once

// The AdaRound flags bert_eval and bert_demo share (qsim/ptq/adaround.hpp):
//   --adaround N                   AdaRound the weights on N batches of the train split
//                                  before activation calibration (0 = off)
//   --adaround_iterations K        steps per layer (10000)
//   --adaround_reg LAMBDA          weight of the rounding regularizer (0.01)
//   --adaround_beta_start B, --adaround_beta_end B   β's annealing (20 → 2)
//   --adaround_warm_start F        fraction of steps without the regularizer (0.2)
//   --adaround_activation BOOL     include GELU / Tanh after a Linear in its loss (true)

#include <cstdint>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "qsim/ptq/adaround.hpp"

namespace qsim::examples {

struct AdaroundFlags {
  int64_t batches = 0;
  int64_t iterations = 10000;
  double reg = 0.01;
  double beta_start = 20.0;
  double beta_end = 2.0;
  double warm_start = 0.2;
  bool activation = true;

  void add_to(CLI::App& app);
  bool enabled() const { return batches > 0; }
  /// The library's options for batches of `batch_size`; ConfigError naming the flag
  /// for bad values.
  ptq::AdaroundOptions options(int64_t batch_size) const;
  nlohmann::json to_json() const;
};

}  // namespace qsim::examples
