#pragma once

// safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON {"name": {"dtype", "shape", "data_offsets"}, ...,
// "__metadata__": {str: str}}, then the raw little-endian tensor bytes.
//
// Reading memory-maps the file and wraps each tensor's bytes without copying when they
// sit at an address aligned to the element size (always the case for files written by
// save_safetensors or by Hugging Face); the tensors keep the mapping alive, and the
// mapping is private copy-on-write, so writing into a loaded tensor never changes the
// file. Misaligned tensors are copied. Every offset, size and dtype is validated
// before any byte is touched: a malformed file raises qsim::IoError naming the file
// and the tensor, and nothing reads out of bounds.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

namespace qsim::io {

/// Named tensors in a meaningful order (a state dict's order, or a file's layout).
using TensorList = std::vector<std::pair<std::string, at::Tensor>>;

/// The content of one safetensors file.
struct SafetensorsFile {
  /// The file it was read from (named in errors).
  std::string path;
  /// Tensors in the order of their data offsets, i.e. the file's layout order.
  TensorList tensors;
  /// The "__metadata__" entry (empty when absent), e.g. {"format": "pt"}.
  std::map<std::string, std::string> metadata;

  /// The tensor called `name`; throws qsim::IoError naming it when absent.
  const at::Tensor& at(const std::string& name) const;
  /// Whether a tensor called `name` exists.
  bool contains(const std::string& name) const;
};

/// Reads a whole file. Dtypes: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL.
/// Throws qsim::IoError when the file is missing, unreadable or malformed.
SafetensorsFile load_safetensors(const std::string& path);

/// Reads one tensor of a file; throws qsim::IoError naming the file and the tensor when
/// it is absent.
at::Tensor load_safetensors_tensor(const std::string& path, const std::string& name);

/// Writes `tensors` (CPU or not, contiguous or not: they are written contiguously, as
/// CPU little-endian bytes) and `metadata`. The data is laid out as the Hugging Face
/// writer does: by decreasing element size, then by name, so every tensor is aligned
/// to its element size; the header lists them in that order after "__metadata__" and
/// is padded with spaces to a multiple of 8 bytes. The file is written next to `path`
/// and renamed into place, so a failed write never leaves a partial file.
/// Throws qsim::ValueError for an unsupported dtype, an empty or duplicate name or the
/// reserved name "__metadata__"; qsim::IoError when the file cannot be written.
void save_safetensors(const std::string& path, const TensorList& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace qsim::io
