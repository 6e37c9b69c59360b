#include "qsim/quant/output_pool.hpp"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/EmptyTensor.h>
#include <c10/core/Allocator.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace qsim::quant {
namespace {

constexpr std::size_t kBlockAlign = std::size_t{2} << 20;

struct Block {
  void* data = nullptr;
  std::size_t bytes = 0;
};

class Pool {
 public:
  Block* take(std::size_t bytes) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        Block* block = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        live_ += bytes;
        ++hits_;
        return block;
      }
      ++misses_;
      live_ += bytes;
    }
    void* data = nullptr;
    if (posix_memalign(&data, kBlockAlign, bytes) != 0) {
      const std::lock_guard<std::mutex> lock(mutex_);
      live_ -= bytes;
      throw std::bad_alloc();
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(data, bytes, MADV_HUGEPAGE);  // a hint; failure is fine
#endif
    return new Block{data, bytes};
  }

  void give_back(Block* block) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      live_ -= block->bytes;
      if (cached_ + block->bytes <= limit_) {
        free_[block->bytes].push_back(block);
        cached_ += block->bytes;
        return;
      }
    }
    destroy(block);
  }

  void set_limit(std::size_t bytes) {
    std::vector<Block*> dropped;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      limit_ = bytes;
      if (cached_ > limit_) dropped = drain();
    }
    for (Block* b : dropped) destroy(b);
  }

  void release() {
    std::vector<Block*> dropped;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      dropped = drain();
    }
    for (Block* b : dropped) destroy(b);
  }

  std::size_t limit() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return limit_;
  }

  OutputPoolStats stats() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return {cached_, live_, hits_, misses_};
  }

 private:
  // Caller holds the lock.
  std::vector<Block*> drain() {
    std::vector<Block*> out;
    for (auto& [bytes, blocks] : free_) out.insert(out.end(), blocks.begin(), blocks.end());
    free_.clear();
    cached_ = 0;
    return out;
  }

  static void destroy(Block* block) {
    std::free(block->data);
    delete block;
  }

  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<Block*>> free_;
  std::size_t limit_ = std::size_t{1} << 30;
  std::size_t cached_ = 0;
  std::size_t live_ = 0;
  std::int64_t hits_ = 0;
  std::int64_t misses_ = 0;
};

// Never destroyed: tensors freed during static destruction still return their blocks.
Pool& pool() {
  static Pool* instance = new Pool();
  return *instance;
}

void return_block(void* context) { pool().give_back(static_cast<Block*>(context)); }

class PoolAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(std::size_t bytes) const override {
    const std::size_t rounded = (bytes + kBlockAlign - 1) / kBlockAlign * kBlockAlign;
    Block* block = pool().take(rounded);
    return {block->data, block, &return_block, c10::Device(c10::DeviceType::CPU)};
  }
};

PoolAllocator& allocator() {
  static PoolAllocator instance;
  return instance;
}

}  // namespace

at::Tensor pooled_empty(at::IntArrayRef sizes, at::ScalarType dtype) {
  std::size_t bytes = c10::elementSize(dtype);
  for (int64_t s : sizes) bytes *= static_cast<std::size_t>(std::max<int64_t>(s, 0));
  if (bytes < kMinPooledBytes || output_pool_limit() == 0) return at::empty(sizes, at::TensorOptions().dtype(dtype));
  return at::detail::empty_generic(sizes, &allocator(), c10::DispatchKeySet(c10::DispatchKey::CPU), dtype,
                                   c10::nullopt);
}

void set_output_pool_limit(std::size_t bytes) { pool().set_limit(bytes); }
std::size_t output_pool_limit() { return pool().limit(); }
OutputPoolStats output_pool_stats() { return pool().stats(); }
void release_output_pool() { pool().release(); }

}  // namespace qsim::quant
