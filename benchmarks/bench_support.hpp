#pragma once

// Helpers the benchmarks share.

#include <sys/resource.h>

namespace qsim::bench {

/// The process's peak resident set so far, in MiB (getrusage; ru_maxrss is KiB on Linux).
inline double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace qsim::bench
