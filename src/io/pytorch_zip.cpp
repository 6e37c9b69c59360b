// Zip checkpoints (torch >= 1.6): `<root>/data.pkl` and `<root>/data/<key>` records.

#include <zip.h>

#include <memory>
#include <vector>

#include "detail/check.hpp"
#include "io/checkpoint_formats.hpp"
#include "io/pickle_reader.hpp"
#include "io/torch_state_dict.hpp"

namespace qsim::io::detail {

namespace {

// torch writes data.pkl of about 100 bytes per tensor; anything this large is corrupt.
constexpr zip_uint64_t kMaxPickleBytes = zip_uint64_t{1} << 30;

struct ArchiveCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;

struct FileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

Archive open_archive(const std::string& path, const std::uint8_t* data, std::size_t size) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(data, size, 0, &error);
  zip_t* archive = source == nullptr ? nullptr : zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (archive == nullptr) {
    if (source != nullptr) zip_source_free(source);
    const std::string message = zip_error_strerror(&error);
    zip_error_fini(&error);
    ::qsim::detail::raise<IoError>("{}: corrupt zip archive: {}", path, message);
  }
  zip_error_fini(&error);
  return Archive(archive);
}

// The archive member that ends in "data.pkl" at the top of its folder, e.g.
// "pytorch_model/data.pkl"; returns its index and sets `root` to "pytorch_model/".
zip_uint64_t find_pickle(const std::string& path, zip_t* archive, std::string& root) {
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* raw = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    if (raw == nullptr) continue;
    const std::string name = raw;
    const std::size_t slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      root = name.substr(0, slash + 1);
      return static_cast<zip_uint64_t>(i);
    }
  }
  ::qsim::detail::raise<IoError>("{}: zip archive has no '<root>/data.pkl' member", path);
}

zip_uint64_t member_size(const std::string& path, zip_t* archive, zip_uint64_t index,
                         const std::string& name) {
  zip_stat_t stat;
  zip_stat_init(&stat);
  QSIM_CHECK(zip_stat_index(archive, index, 0, &stat) == 0 && (stat.valid & ZIP_STAT_SIZE) != 0,
             IoError, "{}: '{}': cannot stat zip member: {}", path, name, zip_strerror(archive));
  return stat.size;
}

// Reads exactly `size` bytes of member `index`, then reaches its end so that libzip
// verifies the CRC.
void read_member(const std::string& path, zip_t* archive, zip_uint64_t index, const std::string& name,
                 void* out, zip_uint64_t size) {
  std::unique_ptr<zip_file_t, FileCloser> file(zip_fopen_index(archive, index, 0));
  QSIM_CHECK(file != nullptr, IoError, "{}: '{}': cannot open zip member: {}", path, name,
             zip_strerror(archive));
  auto* bytes = static_cast<std::uint8_t*>(out);
  zip_uint64_t done = 0;
  while (done < size) {
    const zip_int64_t n = zip_fread(file.get(), bytes + done, size - done);
    QSIM_CHECK(n > 0, IoError, "{}: '{}': corrupt zip member after {} of {} bytes: {}", path, name,
               done, size, n < 0 ? zip_file_strerror(file.get()) : "unexpected end");
    done += static_cast<zip_uint64_t>(n);
  }
  std::uint8_t extra = 0;
  const zip_int64_t n = zip_fread(file.get(), &extra, 1);
  QSIM_CHECK(n == 0, IoError, "{}: '{}': corrupt zip member: {}", path, name,
             n < 0 ? zip_file_strerror(file.get()) : "longer than its recorded size");
}

void read_storages(const std::string& path, zip_t* archive, const std::string& root,
                   const PickleReader& reader) {
  for (const auto& [key, record] : reader.storages()) {
    const std::string name = root + "data/" + key;
    const zip_int64_t index = zip_name_locate(archive, name.c_str(), 0);
    QSIM_CHECK(index >= 0, IoError, "{}: storage record '{}' is missing (no zip member '{}')", path,
               key, name);
    const auto member = static_cast<zip_uint64_t>(index);
    const zip_uint64_t size = member_size(path, archive, member, name);
    allocate_storage(path, *record, size);
    read_member(path, archive, member, name, record->data.data_ptr(), size);
    check_storage_contents(path, *record);
  }
}

}  // namespace

TensorList load_zip_checkpoint(const std::string& path, const std::uint8_t* data, std::size_t size) {
  const Archive archive = open_archive(path, data, size);
  std::string root;
  const zip_uint64_t pickle_index = find_pickle(path, archive.get(), root);
  const std::string pickle_name = root + "data.pkl";
  const zip_uint64_t pickle_size = member_size(path, archive.get(), pickle_index, pickle_name);
  QSIM_CHECK(pickle_size <= kMaxPickleBytes, IoError, "{}: '{}': {} bytes is too large for a state dict",
             path, pickle_name, pickle_size);
  std::vector<std::uint8_t> pickle(pickle_size);
  read_member(path, archive.get(), pickle_index, pickle_name, pickle.data(), pickle_size);

  PickleReader reader(path + ":" + pickle_name, pickle.data(), pickle.size());
  const ValuePtr root_value = reader.load(0);
  QSIM_CHECK(reader.position() == pickle.size(), IoError, "{}: '{}': {} trailing bytes after STOP",
             path, pickle_name, pickle.size() - reader.position());
  const TensorRecords records = state_dict_records(path, *root_value);
  read_storages(path, archive.get(), root, reader);
  return materialize(path, records);
}

}  // namespace qsim::io::detail
