#pragma once

#include <memory>

#include <spdlog/logger.h>

namespace qsim {

/// The library's named spdlog logger, "qsim". On first use it is created with a
/// stderr sink (unless the application registered a logger of that name first);
/// qsim never touches spdlog's default logger or global pattern.
/// info: phases and progress; debug: per-quantizer choices; warn: anything that
/// would otherwise change numerics quietly. Kernels never log.
std::shared_ptr<spdlog::logger> logger();

}  // namespace qsim
