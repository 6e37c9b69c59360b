#pragma once

// The values a restricted unpickler can build. A torch state dict needs only a handful:
// scalars, strings, containers, the few allowed globals, and two torch records that
// stand for what torch would rebuild (a storage and a tensor view of it). The records
// hold no bytes: the checkpoint reader fills storages after unpickling, then builds
// tensors, so both checkpoint formats share one path and every view is validated
// against the storage it reads.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

namespace qsim::io::detail {

/// A storage named by a persistent id: ('storage', torch.<T>Storage, key, location, numel).
struct StorageRecord {
  std::string key;
  at::ScalarType dtype;
  int64_t numel;
  at::Tensor data;  ///< 1-D, numel elements; undefined until the reader fills it
};

/// What torch._utils._rebuild_tensor_v2 would return: a strided view of a storage.
struct TensorRecord {
  std::shared_ptr<StorageRecord> storage;
  int64_t offset;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
};

struct Value;
using ValuePtr = std::shared_ptr<Value>;

enum class ValueKind {
  none,
  boolean,
  integer,      ///< fits int64: `integer`
  big_integer,  ///< wider LONG1: little-endian two's-complement bytes in `text`
  floating,
  string,       ///< `text`
  tuple,        ///< `items`
  list,         ///< `items`
  dict,         ///< `entries`, insertion order (covers OrderedDict too)
  global,       ///< an allowed callable or storage type: `text` = "module.name"
  storage,      ///< `storage`
  tensor,       ///< `tensor`
};

/// One unpickled value. Containers are shared: the memo and the stack may hold the
/// same list or dict, and appending to it is seen through both.
struct Value {
  Value() = default;
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  /// Iterative: a hostile pickle can chain containers millions deep through the memo,
  /// and a recursive destructor would overflow the stack.
  ~Value();

  ValueKind kind = ValueKind::none;
  std::uint32_t depth = 0;  ///< containers: 1 + the deepest item (scalars: 0)
  bool boolean = false;
  int64_t integer = 0;
  double floating = 0.0;
  std::string text;
  std::vector<ValuePtr> items;
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;
  at::ScalarType storage_dtype = at::kFloat;  ///< for a storage-type global
  std::shared_ptr<StorageRecord> storage;
  std::shared_ptr<TensorRecord> tensor;
};

/// A readable name for a kind, for error messages ("tuple", "dict", ...).
const char* kind_name(ValueKind kind);

}  // namespace qsim::io::detail
