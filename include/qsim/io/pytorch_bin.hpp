#pragma once

// Reading `pytorch_model.bin`: a state dict saved by torch.save. LibTorch's own
// torch::pickle_load cannot read these, and Python's pickle would run whatever code
// the file names, so qsim has a restricted unpickler: it understands only the opcodes
// and the globals a state dict uses (collections.OrderedDict,
// torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter, torch.<T>Storage)
// and rejects any other global, e.g. os.system, with an error instead of running it.
//
// Both formats are read:
// - zip (torch >= 1.6): `<root>/data.pkl` plus one `<root>/data/<key>` record per storage;
// - legacy (torch < 1.6): magic number, protocol and sys_info pickles, the data
//   pickle, the list of storage keys, then each storage's element count and bytes.

#include <string>

#include "qsim/io/safetensors.hpp"

namespace qsim::io {

/// The state dict's tensors in the file's order, each a fresh contiguous CPU tensor
/// (views such as `position_ids`, stride (0, 1), are copied out of their storage).
/// Dtypes: float, half, bfloat16, double, int64, int32, int16, int8, uint8, bool.
/// Throws qsim::IoError naming the file (and the key, storage or global at fault) when
/// the file is missing, truncated or corrupt, references a forbidden global, lacks a
/// storage record, or holds a view that does not fit in its storage.
TensorList load_pytorch_bin(const std::string& path);

}  // namespace qsim::io
