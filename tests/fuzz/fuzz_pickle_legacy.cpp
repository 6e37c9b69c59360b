// pytorch_model.bin, legacy layout (torch < 1.6): magic, protocol and sys-info
// pickles, the state-dict pickle, storage keys and the raw storages after them.
#include "fuzz/fuzz_support.hpp"
#include "io/checkpoint_formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string source = "fuzz_legacy.bin";
  qsim::fuzz::expect_clean(source, [&] {
    for (const auto& [name, tensor] : qsim::io::detail::load_legacy_checkpoint(source, data, size)) {
      const at::Tensor copy = tensor.clone();
      (void)copy;
    }
  });
  return 0;
}
