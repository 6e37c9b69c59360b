#pragma once

// What every fuzz target shares: the one rule (a parser either succeeds or throws
// a qsim::Error that names its input; anything else — another exception, a crash,
// a sanitizer report, a leak — is a bug libFuzzer reports) and a scratch file for
// the parsers that, like their users, read from a path.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "qsim/error.hpp"

namespace qsim::fuzz {

// Calls `parse`; a qsim::Error whose message does not name `source` aborts, since
// a user could not tell which file was at fault.
template <typename Parse>
void expect_clean(const std::string& source, Parse&& parse) {
  try {
    parse();
  } catch (const qsim::Error& e) {
    if (std::string_view(e.what()).find(source) == std::string_view::npos) {
      std::fprintf(stderr, "qsim::Error does not name its input '%s': %s\n", source.c_str(), e.what());
      std::abort();
    }
  }
}

// The current input as a file: <TMPDIR>/qsim-fuzz-<pid>/<name>, rewritten per input.
class InputFile {
 public:
  explicit InputFile(const std::string& name) {
    const char* tmp = std::getenv("TMPDIR");
    dir_ = std::filesystem::path(tmp != nullptr ? tmp : "/tmp") / ("qsim-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / name).string();
  }
  ~InputFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& write(const std::uint8_t* data, std::size_t size) {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (f == nullptr || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) {
      std::perror(path_.c_str());
      std::abort();
    }
    return path_;
  }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace qsim::fuzz
