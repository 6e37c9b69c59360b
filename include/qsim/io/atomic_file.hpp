#pragma once

// Whole-file writes that a crash cannot truncate: the bytes go to "<path>.partial",
// which is renamed onto `path` only once complete, so a reader sees the old file
// or the new one, never half of one.

#include <string>
#include <string_view>

namespace qsim::io {

/// Replaces `path` with `contents` atomically. Throws qsim::IoError naming `path`.
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace qsim::io
