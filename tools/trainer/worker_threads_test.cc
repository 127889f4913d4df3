#include "tools/trainer/worker_threads.h"

#include "gtest/gtest.h"

namespace ald {
namespace {

constexpr int kNoLimit = 1 << 20;  // OpenMP's thread limit when OMP_THREAD_LIMIT is unset

TEST(WorkerThreadsTest, SharesTheHostsCoresAmongItsWorkers) {
  EXPECT_EQ(ChooseWorkerThreads(0, 16, 4, kNoLimit).threads, 4);
  EXPECT_EQ(ChooseWorkerThreads(0, 16, 3, kNoLimit).threads, 5);  // rounded down: never oversubscribed
  EXPECT_EQ(DescribeWorkerThreads(ChooseWorkerThreads(0, 16, 4, kNoLimit)),
            "OpenMP threads per worker: 4 (16 cores / 4 workers on this host; "
            "--threads_per_worker overrides)");
}

TEST(WorkerThreadsTest, AtLeastOneThreadWhenWorkersOutnumberCores) {
  EXPECT_EQ(ChooseWorkerThreads(0, 2, 4, kNoLimit).threads, 1);
  EXPECT_EQ(ChooseWorkerThreads(0, 2, 0, kNoLimit).threads, 2);  // unknown: treated as one worker
}

TEST(WorkerThreadsTest, TheFlagOverrides) {
  const WorkerThreads chosen = ChooseWorkerThreads(3, 2, 4, kNoLimit);
  EXPECT_EQ(chosen.threads, 3);
  EXPECT_EQ(DescribeWorkerThreads(chosen), "OpenMP threads per worker: 3 (--threads_per_worker)");
}

// With OMP_THREAD_LIMIT below the count, OpenMP starts fewer threads than oneDNN plans for and a
// kernel with a barrier hangs (seen: ResNet-8's backward-weights under OMP_THREAD_LIMIT=1).
TEST(WorkerThreadsTest, OpenMPsThreadLimitCapsTheCountAndIsSaid) {
  EXPECT_EQ(ChooseWorkerThreads(0, 16, 4, 2).threads, 2);
  const WorkerThreads capped = ChooseWorkerThreads(3, 2, 4, 1);
  EXPECT_EQ(capped.threads, 1);
  EXPECT_EQ(DescribeWorkerThreads(capped),
            "OpenMP threads per worker: 1 (--threads_per_worker; capped from 3 by "
            "OMP_THREAD_LIMIT=1)");
  EXPECT_EQ(ChooseWorkerThreads(0, 2, 1, 2).threads, 2);  // at the limit: unchanged
}

}  // namespace
}  // namespace ald
