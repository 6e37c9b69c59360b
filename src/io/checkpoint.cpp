#include "qsim/io/checkpoint.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "detail/check.hpp"
#include "io/file_writer.hpp"
#include "qsim/io/pytorch_bin.hpp"

namespace qsim::io {

namespace fs = std::filesystem;

std::string find_weights_file(const std::string& dir) {
  QSIM_CHECK(fs::is_directory(dir), IoError, "{}: not a directory", dir);
  for (const char* name : {kSafetensorsWeightsName, kPytorchWeightsName}) {
    const fs::path path = fs::path(dir) / name;
    if (fs::is_regular_file(path)) return path.string();
  }
  ::qsim::detail::raise<IoError>("{}: no weights: neither {} nor {} exists", dir,
                                 kSafetensorsWeightsName, kPytorchWeightsName);
}

TensorList load_state_dict(const std::string& dir) {
  const std::string path = find_weights_file(dir);
  if (fs::path(path).filename() == kSafetensorsWeightsName) return load_safetensors(path).tensors;
  return load_pytorch_bin(path);
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  QSIM_CHECK(in.is_open(), IoError, "{}: cannot open", path);
  try {
    return nlohmann::json::parse(std::istreambuf_iterator<char>(in),
                                 std::istreambuf_iterator<char>());
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for 1e999
    ::qsim::detail::raise<IoError>("{}: invalid JSON: {}", path, e.what());
  }
}

void save_checkpoint(const std::string& dir, const TensorList& state_dict,
                     const nlohmann::json& config) {
  std::error_code error;
  fs::create_directories(dir, error);
  QSIM_CHECK(!error, IoError, "{}: cannot create directory: {}", dir, error.message());
  const std::string text = config.dump(2) + "\n";
  detail::FileWriter out((fs::path(dir) / kConfigName).string());
  out.write(text.data(), text.size());
  out.commit();
  save_safetensors((fs::path(dir) / kSafetensorsWeightsName).string(), state_dict,
                   {{"format", "pt"}});
}

}  // namespace qsim::io
