// Allocator: where tensor storage comes from. The CPU allocator hands out 64-byte-aligned
// blocks so that oneDNN's vector kernels never see a split cache line at a tensor's start.
#pragma once

#include <atomic>
#include <cstddef>

#include "absl/status/statusor.h"
#include "core/device.h"

namespace ald {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual absl::StatusOr<void*> Allocate(size_t bytes) = 0;
  virtual void Deallocate(void* ptr, size_t bytes) = 0;
  virtual Device device() const = 0;
};

inline constexpr size_t kCpuAlignment = 64;

class CpuAllocator : public Allocator {
 public:
  absl::StatusOr<void*> Allocate(size_t bytes) override;
  void Deallocate(void* ptr, size_t bytes) override;
  Device device() const override { return Device::Cpu(); }

  // Bytes currently allocated through this allocator, and the most ever at once.
  size_t bytes_in_use() const { return in_use_.load(); }
  size_t peak_bytes() const { return peak_.load(); }

 private:
  std::atomic<size_t> in_use_{0};
  std::atomic<size_t> peak_{0};
};

// The process-wide CPU allocator used when none is given.
CpuAllocator* DefaultCpuAllocator();

}  // namespace ald
