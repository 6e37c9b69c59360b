#pragma once

// Types shared by the CUDA kernel entries (host-includable: plain C++ sees only
// declarations). The grid and layout structs are the CPU kernels' own, so the quant
// layer fills one struct for either device; on CUDA every pointer in them is a
// *device* pointer (the per-channel parameter arrays live on the tensor's GPU).

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include "kernels/cpu/fake_quant_cpu.hpp"

namespace qsim::kernels::cuda {

using cpu::ChannelLayout;
using cpu::LearnedGrid;
using cpu::StaticGrid;

}  // namespace qsim::kernels::cuda
