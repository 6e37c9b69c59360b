#include "qsim/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace qsim {

std::shared_ptr<spdlog::logger> logger() {
  // Function-local static: thread-safe creation, and an application that
  // registered its own "qsim" logger before first use keeps it.
  static const std::shared_ptr<spdlog::logger> instance = [] {
    if (auto existing = spdlog::get("qsim")) return existing;
    auto created = spdlog::stderr_color_mt("qsim");
    created->set_pattern("[%H:%M:%S.%e] [qsim] [%^%l%$] %v");
    return created;
  }();
  return instance;
}

}  // namespace qsim
