#pragma once

// Hand-assembles torch checkpoints for the io tests: pickle bytes opcode by opcode (as
// torch.save emits them, protocol 2), zip archives through libzip, and legacy streams,
// so that valid, corrupt and malicious files can be made without Python.

#include <zip.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace qsim::test {

class PickleBuilder {
 public:
  PickleBuilder& proto() { return raw("\x80\x02"); }
  PickleBuilder& op(char opcode) {
    bytes_ += opcode;
    return *this;
  }
  PickleBuilder& raw(const std::string& b) {
    bytes_ += b;
    return *this;
  }
  PickleBuilder& global(const std::string& module, const std::string& name) {
    return op('c').raw(module + "\n" + name + "\n");
  }
  PickleBuilder& str(const std::string& s) {
    op('X');
    append_le(static_cast<std::uint32_t>(s.size()), 4);
    return raw(s);
  }
  PickleBuilder& integer(std::int64_t v) {
    if (v >= 0 && v < 256) return op('K').raw(std::string(1, static_cast<char>(v)));
    if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      append_le(static_cast<std::uint32_t>(v), 4);
      return *this;
    }
    op('\x8a').raw(std::string(1, '\x08'));
    append_le(static_cast<std::uint64_t>(v), 8);
    return *this;
  }
  PickleBuilder& int_tuple(const std::vector<std::int64_t>& values) {
    op('(');
    for (const auto v : values) integer(v);
    return op('t');
  }
  PickleBuilder& empty_ordered_dict() { return global("collections", "OrderedDict").op(')').op('R'); }

  /// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())
  /// with persistent id ('storage', torch.<type>, key, 'cpu', numel[, None]).
  PickleBuilder& tensor(const std::string& storage_type, const std::string& key, std::int64_t numel,
                        std::int64_t offset, const std::vector<std::int64_t>& sizes,
                        const std::vector<std::int64_t>& strides, bool legacy = false) {
    global("torch._utils", "_rebuild_tensor_v2").op('(');
    op('(').str("storage").global("torch", storage_type).str(key).str("cpu").integer(numel);
    if (legacy) op('N');
    op('t').op('Q');
    integer(offset).int_tuple(sizes).int_tuple(strides).op('\x89').empty_ordered_dict();
    return op('t').op('R');
  }
  PickleBuilder& stop() { return op('.'); }

  const std::string& bytes() const { return bytes_; }

 private:
  void append_le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_ += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  std::string bytes_;
};

/// One tensor of a hand-made state dict and the storage it views.
struct TensorSpec {
  std::string name;
  std::string storage_type;  ///< "FloatStorage", ...
  std::string key;
  std::int64_t numel;
  std::int64_t offset;
  std::vector<std::int64_t> sizes;
  std::vector<std::int64_t> strides;
};

/// The data.pkl of an OrderedDict of `specs`.
inline std::string state_dict_pickle(const std::vector<TensorSpec>& specs, bool legacy = false) {
  PickleBuilder p;
  p.proto().empty_ordered_dict().op('(');
  for (const auto& s : specs) {
    p.str(s.name).tensor(s.storage_type, s.key, s.numel, s.offset, s.sizes, s.strides, legacy);
  }
  return p.op('u').stop().bytes();
}

/// Writes a zip archive of `members` (name -> bytes), stored uncompressed like torch's.
inline void write_zip(const std::string& path, const std::vector<std::pair<std::string, std::string>>& members) {
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (archive == nullptr) throw std::runtime_error("cannot create " + path);
  for (const auto& [name, data] : members) {
    zip_source_t* source = zip_source_buffer(archive, data.data(), data.size(), 0);
    const zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE);
    if (index < 0) throw std::runtime_error("cannot add " + name);
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
  }
  if (zip_close(archive) != 0) throw std::runtime_error("cannot write " + path);
}

/// A zip checkpoint: `<root>/data.pkl`, `<root>/data/<key>` for each storage, `<root>/version`.
inline void write_zip_checkpoint(const std::string& path, const std::string& pickle,
                                 const std::map<std::string, std::string>& storages,
                                 const std::string& root = "archive") {
  std::vector<std::pair<std::string, std::string>> members = {{root + "/data.pkl", pickle}};
  for (const auto& [key, data] : storages) members.emplace_back(root + "/data/" + key, data);
  members.emplace_back(root + "/version", "3\n");
  write_zip(path, members);
}

/// The bytes of a legacy (torch < 1.6) checkpoint; `storages` in key-list order.
inline std::string legacy_checkpoint_bytes(const std::string& pickle,
                                           const std::vector<std::pair<std::string, std::string>>& storages,
                                           const std::vector<std::int64_t>& numels) {
  std::string out;
  out += PickleBuilder().proto().raw(std::string("\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 12)).stop().bytes();
  out += PickleBuilder().proto().integer(1001).stop().bytes();
  PickleBuilder sys_info;
  sys_info.proto().op('}').op('(').str("protocol_version").integer(1001).str("little_endian").op('\x88');
  out += sys_info.op('u').stop().bytes();
  out += pickle;
  PickleBuilder keys;
  keys.proto().op(']').op('(');
  for (const auto& item : storages) keys.str(item.first);
  out += keys.op('e').stop().bytes();
  for (std::size_t i = 0; i < storages.size(); ++i) {
    const auto n = static_cast<std::uint64_t>(numels[i]);
    char size[8];
    std::memcpy(size, &n, sizeof(size));
    out.append(size, sizeof(size));
    out += storages[i].second;
  }
  return out;
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The raw bytes of `values`, as a storage record holds them.
template <typename T>
std::string storage_bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

}  // namespace qsim::test
