// The resume step is the newest one every worker has, found with all-reduces alone, the same
// on every worker (in-process workers stand in for MPI ranks).
#include "tools/trainer/resume_step.h"

#include <memory>
#include <thread>
#include <vector>

#include "comm/inproc_communicator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

std::vector<absl::StatusOr<int64_t>> Agree(const std::vector<std::vector<int64_t>>& steps) {
  const int workers = static_cast<int>(steps.size());
  std::shared_ptr<InprocWorld> world = *InprocWorld::Create(workers, CommOptions{});
  std::vector<std::unique_ptr<InprocCommunicator>> comms;
  for (int rank = 0; rank < workers; ++rank) comms.push_back(*world->Join(rank));
  std::vector<absl::StatusOr<int64_t>> results(workers, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int rank = 0; rank < workers; ++rank) {
    threads.emplace_back(
        [&, rank] { results[rank] = AgreeOnResumeStep(comms[rank].get(), steps[rank]); });
  }
  for (std::thread& thread : threads) thread.join();
  return results;
}

void ExpectEveryWorkerAt(const std::vector<std::vector<int64_t>>& steps, int64_t expected) {
  for (const absl::StatusOr<int64_t>& step : Agree(steps)) {
    ASSERT_TRUE(step.ok()) << step.status();
    EXPECT_EQ(*step, expected);
  }
}

TEST(ResumeStepTest, AfterACrashEveryWorkerStartsFromTheNewestCommonStep) {
  // The case: a rank died while the others saved step 6.
  ExpectEveryWorkerAt({{4, 5, 6}, {4, 5, 6}, {4, 5}, {4, 5}}, 5);
  ExpectEveryWorkerAt({{3, 6}, {3, 6}, {3, 6}, {3, 6}}, 6);
  // Several rounds: the lowest newest step (7) is missing elsewhere, so is the next (5).
  ExpectEveryWorkerAt({{2, 7}, {2, 5, 8}, {2, 3, 9}}, 2);
  // Steps beyond 2^24, where a float alone would round.
  ExpectEveryWorkerAt({{16777217, 16777219}, {16777217}}, 16777217);
}

TEST(ResumeStepTest, NoCommonStepNamesAWorker) {
  for (const absl::StatusOr<int64_t>& step : Agree({{4, 6}, {5}})) {
    EXPECT_EQ(step.status().code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(std::string(step.status().message()),
                ::testing::HasSubstr("worker 1 has none at or before step 4"));
  }
}

TEST(ResumeStepTest, ASingleWorkerTakesItsNewest) {
  EXPECT_EQ(*AgreeOnResumeStep(nullptr, {1, 2, 9}), 9);
  EXPECT_FALSE(AgreeOnResumeStep(nullptr, {}).ok());
}

}  // namespace
}  // namespace ald
