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

}  // namespace
}  // namespace ald
