// The AIMET quantsim config JSON (semantics §7.1-§7.2), through the file reader
// users call, so that invalid JSON is covered too.
#include "fuzz/fuzz_support.hpp"
#include "qsim/sim/quantsim_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static qsim::fuzz::InputFile file("quantsim_config.json");
  const std::string& path = file.write(data, size);
  qsim::fuzz::expect_clean(path, [&] { (void)qsim::sim::QuantSimConfig::from_file(path); });
  return 0;
}
