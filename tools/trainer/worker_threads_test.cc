#include "tools/trainer/worker_threads.h"

#include "gtest/gtest.h"

namespace ald {
namespace {

TEST(WorkerThreadsTest, SharesTheHostsCoresAmongItsWorkers) {
  EXPECT_EQ(ChooseWorkerThreads(0, 16, 4).threads, 4);
  EXPECT_EQ(ChooseWorkerThreads(0, 16, 3).threads, 5);  // rounded down: never oversubscribed
  EXPECT_EQ(DescribeWorkerThreads(ChooseWorkerThreads(0, 16, 4)),
            "OpenMP threads per worker: 4 (16 cores / 4 workers on this host; "
            "--threads_per_worker overrides)");
}

TEST(WorkerThreadsTest, AtLeastOneThreadWhenWorkersOutnumberCores) {
  EXPECT_EQ(ChooseWorkerThreads(0, 2, 4).threads, 1);
  EXPECT_EQ(ChooseWorkerThreads(0, 2, 0).threads, 2);  // unknown: treated as one worker
}

TEST(WorkerThreadsTest, TheFlagOverrides) {
  const WorkerThreads chosen = ChooseWorkerThreads(3, 2, 4);
  EXPECT_EQ(chosen.threads, 3);
  EXPECT_EQ(DescribeWorkerThreads(chosen), "OpenMP threads per worker: 3 (--threads_per_worker)");
}

}  // namespace
}  // namespace ald
