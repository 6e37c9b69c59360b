// Legacy (torch < 1.6) checkpoints: five pickles back to back, then raw storages.

#include <cstring>

#include "detail/check.hpp"
#include "io/checkpoint_formats.hpp"
#include "io/pickle_reader.hpp"
#include "io/torch_state_dict.hpp"

namespace qsim::io::detail {

namespace {

// torch.serialization.MAGIC_NUMBER, 0x1950a86a20f9469cfc6c, as LONG1 bytes.
constexpr std::uint8_t kMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr int64_t kProtocolVersion = 1001;

void check_preamble(const std::string& path, PickleReader& reader) {
  const ValuePtr magic = reader.load(0);
  QSIM_CHECK(magic->kind == ValueKind::big_integer && magic->text.size() == sizeof(kMagic) &&
                 std::memcmp(magic->text.data(), kMagic, sizeof(kMagic)) == 0,
             IoError, "{}: not a PyTorch checkpoint: wrong magic number", path);
  const ValuePtr protocol = reader.load(reader.position());
  QSIM_CHECK(protocol->kind == ValueKind::integer && protocol->integer == kProtocolVersion,
             IoError, "{}: unsupported legacy protocol version, expected {}", path,
             kProtocolVersion);
  const ValuePtr sys_info = reader.load(reader.position());
  QSIM_CHECK(sys_info->kind == ValueKind::dict, IoError, "{}: sys_info is a {}, expected a dict",
             path, kind_name(sys_info->kind));
  for (const auto& [key, value] : sys_info->entries) {
    if (key->kind == ValueKind::string && key->text == "little_endian") {
      QSIM_CHECK(value->kind == ValueKind::boolean && value->boolean, IoError,
                 "{}: big-endian checkpoints are not supported", path);
    }
  }
}

std::uint64_t read_u64(const std::string& path, const std::string& key, const std::uint8_t* data,
                       std::size_t size, std::size_t& pos) {
  QSIM_CHECK(size - pos >= 8, IoError, "{}: storage record '{}': truncated before its size", path,
             key);
  std::uint64_t value = 0;
  std::memcpy(&value, data + pos, sizeof(value));
  pos += sizeof(value);
  return value;
}

void read_storages(const std::string& path, PickleReader& reader, const Value& keys,
                   const std::uint8_t* data, std::size_t size) {
  QSIM_CHECK(keys.kind == ValueKind::list, IoError,
             "{}: storage key list is a {}, expected a list", path, kind_name(keys.kind));
  std::size_t pos = reader.position();
  for (const auto& item : keys.items) {
    QSIM_CHECK(item->kind == ValueKind::string, IoError, "{}: storage key is a {}, expected str",
               path, kind_name(item->kind));
    const std::string& key = item->text;
    const auto found = reader.storages().find(key);
    QSIM_CHECK(found != reader.storages().end(), IoError,
               "{}: storage record '{}' is not referenced by the state dict", path, key);
    StorageRecord& record = *found->second;
    QSIM_CHECK(!record.data.defined(), IoError, "{}: storage record '{}' appears twice", path, key);
    const std::uint64_t numel = read_u64(path, key, data, size, pos);
    const auto element_size = static_cast<std::uint64_t>(at::elementSize(record.dtype));
    QSIM_CHECK(numel <= (size - pos) / element_size, IoError,
               "{}: storage record '{}': truncated: {} elements of {} bytes, {} bytes left", path,
               key, numel, element_size, size - pos);
    allocate_storage(path, record, numel * element_size);
    std::memcpy(record.data.data_ptr(), data + pos, numel * element_size);
    pos += numel * element_size;
    check_storage_contents(path, record);
  }
}

}  // namespace

bool looks_like_legacy_checkpoint(const std::uint8_t* data, std::size_t size) {
  return size >= 3 && data[0] == 0x80 && data[1] == 0x02 && data[2] == 0x8a;
}

TensorList load_legacy_checkpoint(const std::string& path, const std::uint8_t* data,
                                  std::size_t size) {
  PickleReader reader(path, data, size);
  check_preamble(path, reader);
  const ValuePtr root = reader.load(reader.position());
  const TensorRecords records = state_dict_records(path, *root);
  const ValuePtr keys = reader.load(reader.position());
  read_storages(path, reader, *keys, data, size);
  return materialize(path, records);
}

}  // namespace qsim::io::detail
