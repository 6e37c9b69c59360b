// AIMET encodings JSON (semantics §4.3): the format checks every import runs
// before it looks at a model.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/sim/encodings_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static qsim::fuzz::InputFile file("model_torch.encodings");
  const std::string& path = file.write(data, size);
  qsim::fuzz::expect_clean(path, [&] {
    const qsim::sim::EncodingsFile parsed = qsim::sim::parse_encodings(qsim::io::read_json_file(path), path);
    for (const auto& [name, entry] : parsed.params) {
      if (entry.encodings.empty()) std::abort();  // parse_encodings promises one per channel
    }
  });
  return 0;
}
