// Memory planning: every intermediate buffer of a compiled graph becomes an offset in one arena.
// Buffers live from the step that writes them first to the step that reads them last (the
// execution order of forward + backward is fixed; PlanArena computes that liveness once for
// every backend), and buffers whose lifetimes do not overlap share memory. Greedy by size
// (largest first, lowest fitting offset), as TFLite's arena planner and ggml-alloc do: simple,
// and within a few percent of the live-bytes lower bound on CNNs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
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

// One launch's buffers as liveness sees them: value ids, kNoValue-like negatives ignored.
struct BufferAccess {
  const std::vector<int32_t>* reads;
  const std::vector<int32_t>* writes;
};

// A plan's launches in their fixed order, as the arena planner needs them.
struct LivenessInput {
  std::vector<int32_t> alias_of;        // per value: the value it is a view of, or itself
  std::vector<BufferAccess> launches;   // in execution order
  std::vector<int32_t> whole_step;      // live from before the first launch to after the last
                                        // (the batch, kept intact so a step can run again)
  std::vector<int32_t> read_after;      // read after the last launch (the step's results)
  // Whether a storage value is the arena's (not a parameter held elsewhere) ...
  std::function<bool(int32_t value)> in_arena;
  // ... and its name and size in bytes.
  std::function<std::pair<std::string, size_t>(int32_t value)> describe;
};

// The value whose storage `value` uses (following views to their root).
int32_t StorageOf(const std::vector<int32_t>& alias_of, int32_t value);

// The arena of a plan: one buffer per storage value that some launch (or the lists above)
// touches and `in_arena` accepts, in value order, with its lifetime and offset.
struct ArenaPlan {
  std::vector<int32_t> values;          // the storage value of each buffer
  std::vector<BufferLifetime> buffers;  // its lifetime over the launches
  MemoryPlan memory;                    // offsets[i] is values[i]'s
};

// Liveness over the launches, then PlanMemory and VerifyMemoryPlan.
absl::StatusOr<ArenaPlan> PlanArena(const LivenessInput& input,
                                    size_t alignment = kArenaAlignment);

}  // namespace ald
