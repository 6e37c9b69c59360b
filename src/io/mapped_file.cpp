#include "io/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "detail/check.hpp"

namespace qsim::io::detail {

namespace {

// Closes the descriptor on every path out of open(); the mapping outlives it.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  Descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  QSIM_CHECK(file.fd >= 0, IoError, "{}: cannot open: {}", path, std::strerror(errno));
  struct stat info {};
  QSIM_CHECK(::fstat(file.fd, &info) == 0, IoError, "{}: cannot stat: {}", path,
             std::strerror(errno));
  QSIM_CHECK(S_ISREG(info.st_mode), IoError, "{}: not a regular file", path);
  const auto size = static_cast<std::size_t>(info.st_size);
  if (size == 0) return std::shared_ptr<MappedFile>(new MappedFile(path, nullptr, 0));
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, file.fd, 0);
  QSIM_CHECK(data != MAP_FAILED, IoError, "{}: cannot map {} bytes: {}", path, size,
             std::strerror(errno));
  return std::shared_ptr<MappedFile>(
      new MappedFile(path, static_cast<std::uint8_t*>(data), size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

}  // namespace qsim::io::detail
