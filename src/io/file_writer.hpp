#pragma once

// Writes a file atomically: bytes go to "<path>.partial", and commit() renames it onto
// `path`. A writer destroyed before commit() (an exception mid-write) removes the
// partial file, so readers never see half a checkpoint.

#include <cstddef>
#include <cstdio>
#include <string>

namespace qsim::io::detail {

class FileWriter {
 public:
  /// Opens "<path>.partial"; throws qsim::IoError naming `path` when it cannot.
  explicit FileWriter(std::string path);
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  /// Appends `size` bytes; throws qsim::IoError naming the file on failure.
  void write(const void* data, std::size_t size);
  /// Flushes, closes and renames into place; throws qsim::IoError on failure.
  void commit();

 private:
  std::string path_;
  std::string partial_;
  std::FILE* file_;
};

}  // namespace qsim::io::detail
