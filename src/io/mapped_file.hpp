#pragma once

// A whole file memory-mapped private and copy-on-write: tensors built on its bytes may
// be written to without touching the file. Shared by the tensors that point into it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace qsim::io::detail {

class MappedFile {
 public:
  /// Maps `path`; throws qsim::IoError naming it when it is missing, not a regular
  /// file or cannot be mapped. An empty file maps to size() == 0 and data() == nullptr.
  static std::shared_ptr<MappedFile> open(const std::string& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, std::uint8_t* data, std::size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}

  std::string path_;
  std::uint8_t* data_;
  std::size_t size_;
};

}  // namespace qsim::io::detail
