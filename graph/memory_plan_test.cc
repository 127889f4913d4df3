#include "graph/memory_plan.h"

#include "core/rng.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

TEST(MemoryPlanTest, ReusesMemoryOfDeadBuffers) {
  // A chain a -> b -> c: step 1 reads a and writes b, step 2 reads b and writes c, so c can
  // reuse a's memory but b cannot.
  std::vector<BufferLifetime> buffers = {
      {"a", 1000, 0, 1}, {"b", 1000, 1, 2}, {"c", 1000, 2, 3}};
  absl::StatusOr<MemoryPlan> plan = PlanMemory(buffers);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(VerifyMemoryPlan(buffers, *plan).ok());
  EXPECT_EQ(plan->offsets[0], plan->offsets[2]);  // c takes a's place
  EXPECT_EQ(plan->arena_bytes, 2 * 1024u);        // two 64-byte-aligned 1000-byte slots
  EXPECT_EQ(plan->peak_live_bytes, 2 * 1024u);
}

TEST(MemoryPlanTest, OffsetsAreAligned) {
  std::vector<BufferLifetime> buffers = {{"x", 3, 0, 5}, {"y", 5, 0, 5}, {"z", 70, 0, 5}};
  absl::StatusOr<MemoryPlan> plan = PlanMemory(buffers);
  ASSERT_TRUE(plan.ok());
  for (size_t offset : plan->offsets) EXPECT_EQ(offset % kArenaAlignment, 0u);
  EXPECT_TRUE(VerifyMemoryPlan(buffers, *plan).ok());
}

// On random lifetimes the plan is always valid, never below the live-bytes lower bound, and
// well below the no-reuse total.
TEST(MemoryPlanTest, RandomLifetimesAreValidAndTight) {
  Rng rng(11, 0, 0, RngStream::kTest);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferLifetime> buffers;
    size_t total = 0;
    for (int i = 0; i < 60; ++i) {
      const int first = static_cast<int>(rng.Below(100));
      const int length = static_cast<int>(rng.Below(10));
      const size_t bytes = 64 * (1 + rng.Below(100));
      buffers.push_back({"t" + std::to_string(i), bytes, first, first + length});
      total += bytes;
    }
    absl::StatusOr<MemoryPlan> plan = PlanMemory(buffers);
    ASSERT_TRUE(plan.ok());
    ASSERT_TRUE(VerifyMemoryPlan(buffers, *plan).ok());
    EXPECT_GE(plan->arena_bytes, plan->peak_live_bytes);
    EXPECT_LT(plan->arena_bytes, total);
    // Greedy-by-size is near the lower bound on such inputs; 1.5x is a loose regression bound.
    EXPECT_LE(plan->arena_bytes, plan->peak_live_bytes * 3 / 2);
  }
}

TEST(MemoryPlanTest, VerifyCatchesOverlap) {
  std::vector<BufferLifetime> buffers = {{"a", 128, 0, 2}, {"b", 128, 1, 3}};
  MemoryPlan bad{{0, 64}, 192, 256};
  absl::Status status = VerifyMemoryPlan(buffers, bad);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("'a' and 'b'"), std::string::npos) << status;
}

TEST(MemoryPlanTest, RejectsMalformedLifetimes) {
  absl::StatusOr<MemoryPlan> plan = PlanMemory({{"conv1/out", 64, 5, 2}});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("conv1/out"), std::string::npos);
}

// The liveness both backends use: values 0..5 over three launches. 0 is the batch (live the
// whole step), 1 a view of 2 (so 2's lifetime covers 1's use), 3 a parameter (not the arena's),
// 4 a result read after the last launch, 5 never touched; kNoValue (-1) entries are ignored.
TEST(MemoryPlanTest, PlanArenaComputesLifetimesOverLaunches) {
  const std::vector<int32_t> r0 = {0, 3, -1}, w0 = {2}, r1 = {1}, w1 = {4}, r2 = {4}, w2 = {};
  LivenessInput input;
  input.alias_of = {0, 2, 2, 3, 4, 5};
  input.launches = {{&r0, &w0}, {&r1, &w1}, {&r2, &w2}};
  input.whole_step = {0, -1};
  input.read_after = {4};
  input.in_arena = [](int32_t v) { return v != 3; };
  input.describe = [](int32_t v) {
    return std::make_pair("v" + std::to_string(v), size_t{100} * (v + 1));
  };
  absl::StatusOr<ArenaPlan> arena = PlanArena(input);
  ASSERT_TRUE(arena.ok()) << arena.status();
  EXPECT_EQ(arena->values, (std::vector<int32_t>{0, 2, 4}));
  ASSERT_EQ(arena->buffers.size(), 3u);
  EXPECT_EQ(arena->buffers[0].name, "v0");
  EXPECT_EQ(arena->buffers[0].bytes, 100u);
  EXPECT_EQ(arena->buffers[0].first_step, 0);
  EXPECT_EQ(arena->buffers[0].last_step, 3);  // past the last launch: the batch stays intact
  EXPECT_EQ(arena->buffers[1].first_step, 0);  // written by launch 0 ...
  EXPECT_EQ(arena->buffers[1].last_step, 1);   // ... read through its view by launch 1
  EXPECT_EQ(arena->buffers[2].first_step, 1);
  EXPECT_EQ(arena->buffers[2].last_step, 3);   // a result: read after the step
  EXPECT_TRUE(VerifyMemoryPlan(arena->buffers, arena->memory).ok());
  ASSERT_EQ(arena->memory.offsets.size(), 3u);
}

}  // namespace
}  // namespace ald
