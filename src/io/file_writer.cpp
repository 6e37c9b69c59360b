#include "io/file_writer.hpp"

#include "qsim/io/atomic_file.hpp"

#include <cerrno>
#include <cstring>

#include "detail/check.hpp"

namespace qsim::io::detail {

FileWriter::FileWriter(std::string path)
    : path_(std::move(path)), partial_(path_ + ".partial"), file_(std::fopen(partial_.c_str(), "wb")) {
  QSIM_CHECK(file_ != nullptr, IoError, "{}: cannot create: {}", path_, std::strerror(errno));
}

FileWriter::~FileWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::remove(partial_.c_str());
  }
}

void FileWriter::write(const void* data, std::size_t size) {
  if (size == 0) return;
  QSIM_CHECK(std::fwrite(data, 1, size, file_) == size, IoError, "{}: write failed: {}", path_,
             std::strerror(errno));
}

void FileWriter::commit() {
  std::FILE* file = file_;
  file_ = nullptr;
  const bool closed = std::fclose(file) == 0;
  if (!closed) std::remove(partial_.c_str());
  QSIM_CHECK(closed, IoError, "{}: write failed: {}", path_, std::strerror(errno));
  const bool renamed = std::rename(partial_.c_str(), path_.c_str()) == 0;
  if (!renamed) std::remove(partial_.c_str());
  QSIM_CHECK(renamed, IoError, "{}: cannot rename {} into place: {}", path_, partial_,
             std::strerror(errno));
}

}  // namespace qsim::io::detail

namespace qsim::io {

void write_file_atomically(const std::string& path, std::string_view contents) {
  detail::FileWriter out(path);
  out.write(contents.data(), contents.size());
  out.commit();
}

}  // namespace qsim::io
