#include "qsim/deploy/onnx_runtime.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include <nlohmann/json.hpp>

#include "detail/check.hpp"
#include "qsim/io/safetensors.hpp"

#ifndef QSIM_ORT_RUNNER_DEFAULT
#error "QSIM_ORT_RUNNER_DEFAULT (the checkout's scripts/ort/run_model.js) is set by src/deploy/CMakeLists.txt"
#endif

namespace qsim::deploy {
namespace {

// A private directory for the exchange files, removed with its contents.
class ExchangeDir {
 public:
  ExchangeDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "qsim_ort_XXXXXX").string();
    QSIM_CHECK(::mkdtemp(pattern.data()) != nullptr, IoError, "onnx runtime: cannot create a directory in {}",
               std::filesystem::temp_directory_path().string());
    path_ = pattern;
  }
  ~ExchangeDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ExchangeDir(const ExchangeDir&) = delete;
  ExchangeDir& operator=(const ExchangeDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool has_node() { return std::system("command -v node > /dev/null 2>&1") == 0; }

std::string command_line(const std::string& runner, const std::string& model, const ExchangeDir& io,
                         const OrtOptions& o) {
  std::string cmd = "node " + quoted(runner) + " --model " + quoted(model) + " --inputs " +
                    quoted(io.file("inputs.safetensors")) + " --outputs " + quoted(io.file("outputs.safetensors")) +
                    " --optimization " + std::string(to_string(o.optimization())) + " --threads " +
                    std::to_string(o.threads()) + " --batch_size " + std::to_string(o.batch_size()) +
                    " --trim_padding " + (o.trim_padding() ? "1" : "0") + " --repeat " +
                    std::to_string(o.repeat()) + " --warmup " + std::to_string(o.warmup());
  if (!o.optimized_model().empty()) cmd += " --optimized_model " + quoted(o.optimized_model());
  return cmd + " > " + quoted(io.file("stdout")) + " 2> " + quoted(io.file("stderr"));
}

}  // namespace

std::string_view to_string(OrtOptimization level) {
  switch (level) {
    case OrtOptimization::disabled: return "disabled";
    case OrtOptimization::basic: return "basic";
    case OrtOptimization::extended: return "extended";
    case OrtOptimization::all: return "all";
  }
  return "all";
}

OrtOptimization parse_ort_optimization(std::string_view text) {
  for (const auto level : {OrtOptimization::disabled, OrtOptimization::basic, OrtOptimization::extended,
                           OrtOptimization::all}) {
    if (text == to_string(level)) return level;
  }
  QSIM_CHECK(false, ConfigError, "ORT optimization level '{}': expected disabled, basic, extended or all", text);
}

std::string default_ort_runner() {
  const char* env = std::getenv("QSIM_ORT_RUNNER");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(QSIM_ORT_RUNNER_DEFAULT);
}

bool onnx_runtime_available(std::string* why) {
  const std::string runner = default_ort_runner();
  const std::filesystem::path package =
      std::filesystem::path(runner).parent_path() / "node_modules" / "onnxruntime-node" / "package.json";
  std::string reason;
  if (!has_node()) {
    reason = "no 'node' on the PATH (Node.js >= 18)";
  } else if (!std::filesystem::exists(runner)) {
    reason = "no runner script at " + runner + " (set QSIM_ORT_RUNNER)";
  } else if (!std::filesystem::exists(package)) {
    reason = "onnxruntime-node is not installed next to " + runner + " (run scripts/setup.sh)";
  }
  if (why != nullptr) *why = reason;
  return reason.empty();
}

OrtResult run_onnx_runtime(const std::string& model, const std::map<std::string, at::Tensor>& inputs,
                           const OrtOptions& options) {
  std::string why;
  QSIM_CHECK(!options.runner().empty() || onnx_runtime_available(&why), IoError, "onnx runtime: {}", why);
  QSIM_CHECK(std::filesystem::exists(model), IoError, "onnx runtime: no model file '{}'", model);
  const ExchangeDir io;
  io::TensorList list(inputs.begin(), inputs.end());
  io::save_safetensors(io.file("inputs.safetensors"), list);
  const std::string runner = options.runner().empty() ? default_ort_runner() : options.runner();
  const int status = std::system(command_line(runner, model, io, options).c_str());
  QSIM_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, IoError, "onnx runtime: running '{}' failed: {}", model,
             read_text(io.file("stderr")));
  OrtResult result;
  for (auto& [name, tensor] : io::load_safetensors(io.file("outputs.safetensors")).tensors) {
    result.outputs.emplace(name, tensor.clone());
  }
  const auto summary = nlohmann::json::parse(read_text(io.file("stdout")), nullptr, /*allow_exceptions=*/false);
  QSIM_CHECK(summary.is_object(), IoError, "onnx runtime: the runner printed no summary for '{}'", model);
  result.load_ms = summary.value("load_ms", 0.0);
  result.runs_ms = summary.value("runs_ms", std::vector<double>{});
  result.version = summary.value("ort_version", std::string());
  return result;
}

}  // namespace qsim::deploy
