#include "tensor_spec.hpp"

#include "detail/check.hpp"
#include "qsim/io/safetensors.hpp"

namespace qsim::cli {

at::Tensor load_tensor(const std::string& spec, std::string_view flag) {
  std::string path = spec, name;
  const auto colon = spec.rfind(':');
  if (colon != std::string::npos && colon > 0) {
    path = spec.substr(0, colon);
    name = spec.substr(colon + 1);
  }
  const io::SafetensorsFile file = io::load_safetensors(path);
  if (!name.empty()) return file.at(name);
  QSIM_CHECK(file.tensors.size() == 1, ConfigError, "{} {}: the file holds {} tensors; name one as {}:NAME", flag, path,
             file.tensors.size(), path);
  return file.tensors.front().second;
}

}  // namespace qsim::cli
