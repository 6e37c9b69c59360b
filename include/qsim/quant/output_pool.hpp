#pragma once

// The output pool: where qsim's large CPU outputs (fake-quant results, blocked
// matrix products, fused ops) get their memory. Freed blocks are kept and handed
// out again for the same size, so a loop that runs the same shapes every step
// (evaluation, calibration, training) stops mapping fresh memory: glibc maps every
// block above its mmap threshold anew and the kernel zeroes each page on first
// touch, which cost a 64 MB fake quant half its time (docs/benchmarks.md).
//
// Blocks of at least kMinPooledBytes are rounded up to 2 MiB and aligned to 2 MiB
// (transparent huge pages where the kernel allows them); smaller tensors come from
// LibTorch's default allocator. The pool keeps at most `limit` bytes of free
// blocks (default 1 GiB; 0 turns pooling off); blocks freed beyond that are
// returned to the system. Thread-safe. Only memory qsim allocates itself goes
// through it: LibTorch's own ops and autograd keep their allocator.

#include <cstddef>
#include <cstdint>

#include <ATen/core/Tensor.h>

namespace qsim::quant {

inline constexpr std::size_t kMinPooledBytes = std::size_t{1} << 20;

struct OutputPoolStats {
  std::size_t cached_bytes = 0;  ///< free blocks held now
  std::size_t live_bytes = 0;    ///< pooled blocks in use now
  std::int64_t hits = 0;         ///< allocations served from a free block
  std::int64_t misses = 0;       ///< allocations that mapped a new block
};

/// An uninitialised contiguous CPU tensor of `dtype` from the pool.
at::Tensor pooled_empty(at::IntArrayRef sizes, at::ScalarType dtype = at::kFloat);

/// Caps the free blocks kept (bytes; 0 disables pooling and frees what is cached).
void set_output_pool_limit(std::size_t bytes);
std::size_t output_pool_limit();
OutputPoolStats output_pool_stats();
/// Frees every cached block (live tensors keep theirs).
void release_output_pool();

}  // namespace qsim::quant
