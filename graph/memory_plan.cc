#include "graph/memory_plan.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace ald {
namespace {

size_t AlignUp(size_t value, size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

bool LifetimesOverlap(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

absl::StatusOr<MemoryPlan> PlanMemory(const std::vector<BufferLifetime>& buffers,
                                      size_t alignment) {
  for (const BufferLifetime& buffer : buffers) {
    if (buffer.first_step < 0 || buffer.last_step < buffer.first_step) {
      return absl::InvalidArgumentError(
          absl::StrCat("memory plan: buffer '", buffer.name, "' lives from step ",
                       buffer.first_step, " to step ", buffer.last_step,
                       ", expected 0 <= first <= last"));
    }
  }
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);

  // Largest first; ties by earlier start so the order (and so the plan) is deterministic.
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first_step < buffers[b].first_step;
  });

  std::vector<size_t> placed;  // indices already given an offset
  for (size_t index : order) {
    const BufferLifetime& buffer = buffers[index];
    const size_t size = AlignUp(buffer.bytes, alignment);
    // Busy intervals of already-placed buffers whose lifetimes overlap this one, by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t other : placed) {
      if (LifetimesOverlap(buffer, buffers[other])) {
        busy.emplace_back(plan.offsets[other],
                          plan.offsets[other] + AlignUp(buffers[other].bytes, alignment));
      }
    }
    std::sort(busy.begin(), busy.end());
    // The lowest gap that fits, scanning the busy intervals in offset order.
    size_t candidate = 0;
    for (const auto& [begin, end] : busy) {
      if (begin >= candidate + size) break;
      candidate = std::max(candidate, end);
    }
    plan.offsets[index] = candidate;
    plan.arena_bytes = std::max(plan.arena_bytes, candidate + size);
    placed.push_back(index);
  }

  std::map<int, int64_t> delta;  // live-bytes sweep for the lower bound
  for (const BufferLifetime& buffer : buffers) {
    delta[buffer.first_step] += static_cast<int64_t>(AlignUp(buffer.bytes, alignment));
    delta[buffer.last_step + 1] -= static_cast<int64_t>(AlignUp(buffer.bytes, alignment));
  }
  int64_t live = 0;
  for (const auto& [step, change] : delta) {
    live += change;
    plan.peak_live_bytes = std::max(plan.peak_live_bytes, static_cast<size_t>(live));
  }
  return plan;
}

absl::Status VerifyMemoryPlan(const std::vector<BufferLifetime>& buffers, const MemoryPlan& plan) {
  if (plan.offsets.size() != buffers.size()) {
    return absl::InternalError(absl::StrCat("memory plan: ", plan.offsets.size(),
                                            " offsets for ", buffers.size(), " buffers"));
  }
  for (size_t a = 0; a < buffers.size(); ++a) {
    if (plan.offsets[a] + buffers[a].bytes > plan.arena_bytes) {
      return absl::InternalError(absl::StrCat("memory plan: buffer '", buffers[a].name,
                                              "' ends past the arena"));
    }
    for (size_t b = a + 1; b < buffers.size(); ++b) {
      const bool share_time = LifetimesOverlap(buffers[a], buffers[b]);
      const bool share_space = plan.offsets[a] < plan.offsets[b] + buffers[b].bytes &&
                               plan.offsets[b] < plan.offsets[a] + buffers[a].bytes;
      if (share_time && share_space && buffers[a].bytes > 0 && buffers[b].bytes > 0) {
        return absl::InternalError(absl::StrCat("memory plan: buffers '", buffers[a].name,
                                                "' and '", buffers[b].name,
                                                "' are alive together and overlap"));
      }
    }
  }
  return absl::OkStatus();
}

int32_t StorageOf(const std::vector<int32_t>& alias_of, int32_t value) {
  while (alias_of[value] != value) value = alias_of[value];
  return value;
}

absl::StatusOr<ArenaPlan> PlanArena(const LivenessInput& input, size_t alignment) {
  const size_t num_values = input.alias_of.size();
  const int end = static_cast<int>(input.launches.size());
  std::vector<int> first(num_values, -1), last(num_values, -1);
  auto touch = [&](int32_t value, int step) {
    if (value < 0) return;
    const int32_t root = StorageOf(input.alias_of, value);
    if (first[root] < 0) first[root] = step;
    first[root] = std::min(first[root], step);
    last[root] = std::max(last[root], step);
  };
  for (int i = 0; i < end; ++i) {
    for (int32_t v : *input.launches[i].reads) touch(v, i);
    for (int32_t v : *input.launches[i].writes) touch(v, i);
  }
  for (int32_t v : input.whole_step) {
    touch(v, 0);
    touch(v, end);
  }
  for (int32_t v : input.read_after) touch(v, end);

  ArenaPlan arena;
  for (size_t v = 0; v < num_values; ++v) {
    const int32_t id = static_cast<int32_t>(v);
    if (input.alias_of[v] != id || first[v] < 0 || !input.in_arena(id)) continue;
    auto [name, bytes] = input.describe(id);
    arena.values.push_back(id);
    arena.buffers.push_back({std::move(name), bytes, first[v], last[v]});
  }
  ASSIGN_OR_RETURN(arena.memory, PlanMemory(arena.buffers, alignment));
  RETURN_IF_ERROR(VerifyMemoryPlan(arena.buffers, arena.memory));
  return arena;
}

}  // namespace ald
