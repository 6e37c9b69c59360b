// safetensors: header JSON, dtypes, shapes, offsets, the data section. Every tensor
// that loads is read in full, so a view past the mapping would fault here.
#include "fuzz/fuzz_support.hpp"
#include "qsim/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static qsim::fuzz::InputFile file("model.safetensors");
  const std::string& path = file.write(data, size);
  qsim::fuzz::expect_clean(path, [&] {
    const qsim::io::SafetensorsFile loaded = qsim::io::load_safetensors(path);
    for (const auto& [name, tensor] : loaded.tensors) {
      const at::Tensor copy = tensor.clone();
      (void)copy;
    }
    if (!loaded.tensors.empty()) (void)qsim::io::load_safetensors_tensor(path, loaded.tensors.front().first);
  });
  return 0;
}
