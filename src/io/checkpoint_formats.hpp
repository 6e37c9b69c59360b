#pragma once

// The two layouts of pytorch_model.bin, each from a whole file in memory.

#include <cstddef>
#include <cstdint>
#include <string>

#include "qsim/io/safetensors.hpp"

namespace qsim::io::detail {

/// Whether `data` starts like a legacy (torch < 1.6) checkpoint: PROTO 2, LONG1.
bool looks_like_legacy_checkpoint(const std::uint8_t* data, std::size_t size);

/// Reads a legacy checkpoint; `path` names it in errors.
TensorList load_legacy_checkpoint(const std::string& path, const std::uint8_t* data, std::size_t size);

/// Reads a zip checkpoint (torch >= 1.6); `path` names it in errors.
TensorList load_zip_checkpoint(const std::string& path, const std::uint8_t* data, std::size_t size);

}  // namespace qsim::io::detail
