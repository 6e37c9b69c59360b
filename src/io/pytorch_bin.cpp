#include "qsim/io/pytorch_bin.hpp"

#include <cstring>

#include "detail/check.hpp"
#include "io/checkpoint_formats.hpp"
#include "io/mapped_file.hpp"

namespace qsim::io {

TensorList load_pytorch_bin(const std::string& path) {
  const auto file = detail::MappedFile::open(path);
  const std::uint8_t* data = file->data();
  const std::size_t size = file->size();
  static constexpr std::uint8_t kZipMagic[4] = {'P', 'K', 0x03, 0x04};
  if (size >= sizeof(kZipMagic) && std::memcmp(data, kZipMagic, sizeof(kZipMagic)) == 0) {
    return detail::load_zip_checkpoint(path, data, size);
  }
  if (detail::looks_like_legacy_checkpoint(data, size)) {
    return detail::load_legacy_checkpoint(path, data, size);
  }
  ::qsim::detail::raise<IoError>(
      "{}: not a PyTorch checkpoint: starts neither with a zip header nor with a pickle",
      path);
}

}  // namespace qsim::io
