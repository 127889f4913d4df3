// Memory planning: every intermediate buffer of a compiled graph becomes an offset in one arena.
// Buffers live from the step that writes them first to the step that reads them last (the
// execution order of forward + backward is fixed), and buffers whose lifetimes do not overlap
// share memory. Greedy by size (largest first, lowest fitting offset), as TFLite's arena planner
// and ggml-alloc do: simple, and within a few percent of the live-bytes lower bound on CNNs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ald {

struct BufferLifetime {
  std::string name;   // for error messages and reports
  size_t bytes = 0;
  int first_step = 0;  // index in the execution order of the first write
  int last_step = 0;   // index of the last read (inclusive)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per buffer, aligned
  size_t arena_bytes = 0;       // total arena size
  size_t peak_live_bytes = 0;   // max over steps of the bytes alive then: a lower bound
};

inline constexpr size_t kArenaAlignment = 64;

// Plans the buffers; an error names a buffer whose lifetime is malformed.
absl::StatusOr<MemoryPlan> PlanMemory(const std::vector<BufferLifetime>& buffers,
                                      size_t alignment = kArenaAlignment);

// Checks that no two buffers alive at the same step overlap in the arena (used by tests and
// by the compiler in debug builds).
absl::Status VerifyMemoryPlan(const std::vector<BufferLifetime>& buffers, const MemoryPlan& plan);

}  // namespace ald
