#include "core/allocator.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace ald {

absl::StatusOr<void*> CpuAllocator::Allocate(size_t bytes) {
  // aligned_alloc needs a multiple of the alignment; a zero-byte tensor still gets a valid pointer.
  const size_t rounded = ((bytes + kCpuAlignment - 1) / kCpuAlignment) * kCpuAlignment;
  void* ptr = std::aligned_alloc(kCpuAlignment, rounded == 0 ? kCpuAlignment : rounded);
  if (ptr == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("CpuAllocator: cannot allocate ", bytes, " bytes (", in_use_.load(),
                     " already in use)"));
  }
  const size_t now = in_use_.fetch_add(bytes) + bytes;
  size_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  return ptr;
}

void CpuAllocator::Deallocate(void* ptr, size_t bytes) {
  if (ptr == nullptr) return;
  std::free(ptr);
  in_use_.fetch_sub(bytes);
}

CpuAllocator* DefaultCpuAllocator() {
  static CpuAllocator* allocator = new CpuAllocator();  // never destroyed: outlives all tensors
  return allocator;
}

}  // namespace ald
