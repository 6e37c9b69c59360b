#pragma once

// From an unpickled torch state dict to tensors, shared by both checkpoint formats:
// the reader unpickles, fills each StorageRecord's bytes (from the zip archive or the
// legacy stream), then materializes every TensorRecord as a contiguous tensor after
// checking that its view stays inside its storage.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/pickle_value.hpp"
#include "qsim/io/safetensors.hpp"

namespace qsim::io::detail {

using TensorRecords = std::vector<std::pair<std::string, std::shared_ptr<TensorRecord>>>;

/// The entries of `root`, which must be a dict (or OrderedDict) of str -> tensor;
/// throws qsim::IoError naming `source` and the offending key otherwise.
TensorRecords state_dict_records(const std::string& source, const Value& root);

/// Allocates `record.data` for a storage whose bytes on disk number `stored_bytes`;
/// throws qsim::IoError naming `source` and the key unless they are exactly
/// numel * element size.
void allocate_storage(const std::string& source, StorageRecord& record, std::uint64_t stored_bytes);

/// Checks a filled storage's contents (BOOL bytes must be 0 or 1).
void check_storage_contents(const std::string& source, const StorageRecord& record);

/// Builds the tensors, in order. Throws qsim::IoError naming `source` and the key when
/// a storage was never filled or a view reaches past the end of its storage.
TensorList materialize(const std::string& source, const TensorRecords& records);

}  // namespace qsim::io::detail
