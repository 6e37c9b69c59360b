#pragma once

#include <stdexcept>

namespace qsim {

/// Base of every exception qsim throws. Messages name the thing at fault (file,
/// then key, module path or tensor, quoted), what is wrong, and expected vs got:
/// `model.safetensors: 'classifier.weight': shape [2, 768], model expects [3, 768]`.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Invalid configuration: config JSON, command-line flags, options out of range.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A missing, unreadable, truncated or corrupt file or checkpoint.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A bad value at an API edge: shape, dtype, device, NaN/Inf range.
class ValueError : public Error {
 public:
  using Error::Error;
};

}  // namespace qsim
