#pragma once

// How the qsim tool names a tensor on its command line: "file.safetensors[:NAME]".

#include <string>
#include <string_view>

#include <ATen/core/Tensor.h>

namespace qsim::cli {

/// The tensor NAME of the safetensors file, or its only tensor when NAME is omitted.
/// Throws ConfigError naming `flag` when the file holds several and none is named,
/// IoError for a missing or malformed file.
at::Tensor load_tensor(const std::string& spec, std::string_view flag);

}  // namespace qsim::cli
