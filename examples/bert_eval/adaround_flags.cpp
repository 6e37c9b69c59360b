#include "adaround_flags.hpp"

#include "detail/check.hpp"
#include "qsim/error.hpp"

namespace qsim::examples {

void AdaroundFlags::add_to(CLI::App& app) {
  app.add_option("--adaround", batches,
                 "AdaRound the weights on N batches of the train split before activation calibration (0 = off)");
  app.add_option("--adaround_iterations", iterations, "AdaRound: optimization steps per layer (AIMET: 10000)");
  app.add_option("--adaround_reg", reg, "AdaRound: lambda, the weight of the rounding regularizer (0.01)");
  app.add_option("--adaround_beta_start", beta_start, "AdaRound: beta at the end of the warm start (20)");
  app.add_option("--adaround_beta_end", beta_end, "AdaRound: beta at the last step (2)");
  app.add_option("--adaround_warm_start", warm_start, "AdaRound: fraction of steps without the regularizer (0.2)");
  app.add_option("--adaround_activation", activation,
                 "AdaRound: include the GELU / Tanh that follows a Linear in its loss (true; AIMET 1.23: false)");
}

ptq::AdaroundOptions AdaroundFlags::options(int64_t batch_size) const {
  QSIM_CHECK(batches >= 0, ConfigError, "--adaround must be >= 0 batches, got {}", batches);
  const ptq::AdaroundOptions o = ptq::AdaroundOptions()
                                     .batches(batches)
                                     .batch_size(batch_size)
                                     .iterations(iterations)
                                     .reg_weight(reg)
                                     .beta_start(beta_start)
                                     .beta_end(beta_end)
                                     .warm_start(warm_start)
                                     .include_activation(activation);
  try {
    ptq::validate(o);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{} (--adaround flags)", e.what()));
  }
  return o;
}

nlohmann::json AdaroundFlags::to_json() const {
  return {{"batches", batches},   {"iterations", iterations}, {"reg", reg},
          {"beta_start", beta_start}, {"beta_end", beta_end}, {"warm_start", warm_start},
          {"activation", activation}};
}

}  // namespace qsim::examples
