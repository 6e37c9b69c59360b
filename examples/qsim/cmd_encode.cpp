// qsim encode: calibrate an encoding analyzer on safetensors batches and print the
// encodings in AIMET 1.x's JSON form (semantics §3, §4.3), which qsim qdq --encodings reads.
#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "commands.hpp"
#include "tensor_spec.hpp"
#include "qsim/analysis/encoding_analyzer.hpp"
#include "qsim/analysis/per_channel_analyzer.hpp"
#include "qsim/log.hpp"

namespace qsim::cli {
namespace {

struct EncodeArgs {
  std::vector<std::string> inputs;
  std::string analyzer;
  int bitwidth = 8;
  std::string scheme;
  double percentile = 100.0;
  std::optional<int64_t> axis;
};

std::vector<quant::Encoding> calibrate(const EncodeArgs& a, analysis::AnalyzerKind kind, quant::Symmetry symmetry) {
  const auto options = analysis::AnalyzerOptions().percentile(a.percentile);
  if (a.axis) {
    analysis::PerChannelAnalyzer analyzer(kind, *a.axis, options);
    for (const std::string& input : a.inputs) analyzer.update_stats(load_tensor(input, "--input"));
    return analyzer.compute_encodings(a.bitwidth, symmetry);
  }
  const auto analyzer = analysis::make_analyzer(kind, options);
  for (const std::string& input : a.inputs) analyzer->update_stats(load_tensor(input, "--input"));
  return {analyzer->compute_encoding(a.bitwidth, symmetry)};
}

// AIMET 1.x encoding entries: string booleans, offset as an integer, doubles with
// 17 significant digits so they read back bit-exact.
std::string to_json(const std::vector<quant::Encoding>& encodings, quant::Symmetry symmetry) {
  const char* symmetric = symmetry == quant::Symmetry::asymmetric ? "False" : "True";
  std::vector<std::string> entries;
  for (const quant::Encoding& e : encodings) {
    entries.push_back(fmt::format(
        R"({{"bitwidth": {}, "dtype": "int", "is_symmetric": "{}", "min": {:.17g}, "max": {:.17g}, "offset": {}, "scale": {:.17g}}})",
        e.bitwidth, symmetric, e.min, e.max, static_cast<int64_t>(e.offset), e.delta));
  }
  return fmt::format(R"({{"encodings": [{}]}})", fmt::join(entries, ", "));
}

void run_encode(const EncodeArgs& a) {
  const analysis::AnalyzerKind kind = analysis::parse_analyzer_kind(a.analyzer);
  const quant::Symmetry symmetry = quant::parse_symmetry(a.scheme);
  quant::check_bitwidth(a.bitwidth, symmetry, "--bitwidth");
  logger()->info("encode: {} analyzer, {} batch(es), {} bit {}{}", a.analyzer, a.inputs.size(), a.bitwidth, a.scheme,
                 a.axis ? fmt::format(", per channel along axis {}", *a.axis) : std::string());
  fmt::print("{}\n", to_json(calibrate(a, kind, symmetry), symmetry));
}

}  // namespace

void add_encode_command(CLI::App& app) {
  auto args = std::make_shared<EncodeArgs>();
  auto* cmd = app.add_subcommand("encode", "calibrate an encoding analyzer on safetensors batches, print encodings JSON");
  cmd->add_option("--input", args->inputs, "calibration batch FILE.safetensors[:NAME], repeatable, in order")
      ->required();
  cmd->add_option("--analyzer", args->analyzer, "tf, tf_enhanced, percentile, mse or entropy")->required();
  cmd->add_option("--bitwidth", args->bitwidth, "bits per value")->required();
  cmd->add_option("--scheme", args->scheme, "asymmetric, symmetric, strict_symmetric or unsigned_symmetric")
      ->required();
  cmd->add_option("--percentile", args->percentile, "percentile analyzer's P in (0, 100]")->default_val(100.0);
  cmd->add_option("--axis", args->axis, "per-channel along this axis (default: per tensor)");
  cmd->callback([args] { run_encode(*args); });
}

}  // namespace qsim::cli
