// pytorch_model.bin, zip layout (torch >= 1.6): libzip, archive members, the
// restricted unpickler and the storages it names.
#include "fuzz/fuzz_support.hpp"
#include "io/checkpoint_formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string source = "fuzz_zip.bin";
  qsim::fuzz::expect_clean(source, [&] {
    for (const auto& [name, tensor] : qsim::io::detail::load_zip_checkpoint(source, data, size)) {
      const at::Tensor copy = tensor.clone();
      (void)copy;
    }
  });
  return 0;
}
