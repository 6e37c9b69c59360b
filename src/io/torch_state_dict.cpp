#include "io/torch_state_dict.hpp"

#include <limits>

#include <fmt/ranges.h>

#include "detail/check.hpp"

namespace qsim::io::detail {

namespace {

// The last element a view reads, or false when it overflows int64.
bool last_index(const TensorRecord& t, int64_t& out) {
  int64_t last = t.offset;
  for (std::size_t d = 0; d < t.sizes.size(); ++d) {
    int64_t span = 0;
    if (__builtin_mul_overflow(t.sizes[d] - 1, t.strides[d], &span) ||
        __builtin_add_overflow(last, span, &last)) {
      return false;
    }
  }
  out = last;
  return true;
}

int64_t element_count(const std::string& source, const std::string& key, const TensorRecord& t) {
  int64_t numel = 1;
  for (const int64_t size : t.sizes) {
    QSIM_CHECK(!__builtin_mul_overflow(numel, size, &numel), IoError,
               "{}: '{}': size [{}] is too large", source, key, fmt::join(t.sizes, ", "));
  }
  return numel;
}

at::Tensor build(const std::string& source, const std::string& key, const TensorRecord& t) {
  const StorageRecord& storage = *t.storage;
  QSIM_CHECK(storage.data.defined(), IoError, "{}: '{}': storage record '{}' is missing", source,
             key, storage.key);
  if (element_count(source, key, t) == 0) return at::empty(t.sizes, at::dtype(storage.dtype));
  int64_t last = 0;
  QSIM_CHECK(last_index(t, last) && last < storage.numel, IoError,
             "{}: '{}': size [{}] stride [{}] offset {} reaches past storage '{}' of {} elements",
             source, key, fmt::join(t.sizes, ", "), fmt::join(t.strides, ", "), t.offset,
             storage.key, storage.numel);
  return storage.data.as_strided(t.sizes, t.strides, t.offset).contiguous();
}

}  // namespace

TensorRecords state_dict_records(const std::string& source, const Value& root) {
  QSIM_CHECK(root.kind == ValueKind::dict, IoError,
             "{}: the pickle holds a {}, expected a state dict (an OrderedDict of tensors)", source,
             kind_name(root.kind));
  TensorRecords records;
  for (const auto& [key, value] : root.entries) {
    QSIM_CHECK(key->kind == ValueKind::string, IoError, "{}: state dict key is a {}, expected str",
               source, kind_name(key->kind));
    QSIM_CHECK(value->kind == ValueKind::tensor, IoError, "{}: '{}': value is a {}, expected a tensor",
               source, key->text, kind_name(value->kind));
    records.emplace_back(key->text, value->tensor);
  }
  return records;
}

void allocate_storage(const std::string& source, StorageRecord& record, std::uint64_t stored_bytes) {
  const auto element_size = static_cast<std::uint64_t>(at::elementSize(record.dtype));
  const auto numel = static_cast<std::uint64_t>(record.numel);
  QSIM_CHECK(numel <= std::numeric_limits<std::uint64_t>::max() / element_size &&
                 numel * element_size == stored_bytes,
             IoError, "{}: storage record '{}': {} {} elements need {} bytes, the record holds {}",
             source, record.key, record.numel, c10::toString(record.dtype), numel * element_size,
             stored_bytes);
  record.data = at::empty({record.numel}, at::dtype(record.dtype));
}

void check_storage_contents(const std::string& source, const StorageRecord& record) {
  if (record.dtype != at::kBool) return;
  const auto* bytes = static_cast<const std::uint8_t*>(record.data.data_ptr());
  for (int64_t i = 0; i < record.numel; ++i) {
    QSIM_CHECK(bytes[i] <= 1, IoError, "{}: storage record '{}': bool element {} has byte value {}",
               source, record.key, i, bytes[i]);
  }
}

TensorList materialize(const std::string& source, const TensorRecords& records) {
  TensorList tensors;
  tensors.reserve(records.size());
  for (const auto& [key, record] : records) tensors.emplace_back(key, build(source, key, *record));
  return tensors;
}

}  // namespace qsim::io::detail
