#include "comm/algorithms/allreduce_sgd.h"

#include <vector>

#include "absl/synchronization/notification.h"

#include "comm/algorithms/registry.h"
#include "comm/algorithms/algorithm_testing.h"
#include "core/status.h"
#include "gtest/gtest.h"
#include "ops/sgd.h"

namespace ald {
namespace {

using ::ald::testing::RunStep;
using ::ald::testing::RunWorkers;
using ::ald::testing::TestWorker;

constexpr int kWorkers = 4;
constexpr int kSteps = 5;
const std::vector<size_t> kBuckets = {3, 1, 5};
constexpr size_t kLength = 9;

// Different on every rank, so that sync_init has something to do.
std::vector<float> Initial(int rank) {
  std::vector<float> x(kLength);
  for (size_t e = 0; e < kLength; ++e) x[e] = 0.5f * static_cast<float>(e) - 1.0f + rank;
  return x;
}

// Worker `rank`'s gradient on its own batch: different per worker, so averaging matters.
float Gradient(int rank, int step, size_t e) {
  return 0.3f * (static_cast<float>(rank) - 1.5f) + 0.05f * static_cast<float>(step) -
         0.02f * static_cast<float>(e) * static_cast<float>(rank + 1);
}

class AllReduceSgdTest : public ::testing::TestWithParam<bool> {};

// Every worker holds the same bits after every step, and that is the single-worker SGD step on
// the union batch, whose gradient is the mean of the workers' gradients.
TEST_P(AllReduceSgdTest, EveryWorkerTakesTheUnionBatchStep) {
  const LocalStep local{.lr = 0.05f, .momentum = 0.9f, .nesterov = GetParam(),
                        .weight_decay = 0.01f};
  // trajectory[rank][step]: the parameters after that step.
  std::vector<std::vector<std::vector<float>>> trajectory(
      kWorkers, std::vector<std::vector<float>>(kSteps));
  const absl::Status status = RunWorkers(kWorkers, [&](int rank, Communicator& comm) {
    TestWorker worker(Initial(rank), kBuckets);
    ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm,
                     MakeAllReduceSgd({&comm, nullptr, worker.buffers(), {}}));
    RETURN_IF_ERROR(algorithm->Start());
    for (int step = 0; step < kSteps; ++step) {
      for (size_t e = 0; e < kLength; ++e) worker.grads[e] = Gradient(rank, step, e);
      RETURN_IF_ERROR(RunStep(*algorithm, step, local, 1.0f, kBuckets.size()));
      trajectory[rank][step] = worker.params;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;

  std::vector<float> x = Initial(0), g(kLength), momentum(kLength, 0.0f);
  const cpu::SgdConfig config{local.lr, local.momentum, local.nesterov, local.weight_decay};
  for (int step = 0; step < kSteps; ++step) {
    for (size_t e = 0; e < kLength; ++e) {
      float sum = 0;
      for (int rank = 0; rank < kWorkers; ++rank) sum += Gradient(rank, step, e);
      g[e] = sum / kWorkers;
    }
    ASSERT_TRUE(cpu::SgdStep(config, x, g, momentum).ok());
    for (int rank = 1; rank < kWorkers; ++rank) {
      EXPECT_EQ(trajectory[rank][step], trajectory[0][step]) << "rank " << rank << " step " << step;
    }
    for (size_t e = 0; e < kLength; ++e) {
      EXPECT_FLOAT_EQ(trajectory[0][step][e], x[e]) << "step " << step << " element " << e;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(HeavyBallAndNesterov, AllReduceSgdTest, ::testing::Bool());

// A bucket's all-reduce runs behind the backward: UpdateAndPost returns before the other worker
// has posted anything (a blocking all-reduce would wait for it, and it waits for this one), and
// the step that Combine takes is still the union-batch step.
TEST(AllReduceSgdOverlapTest, UpdateAndPostDoesNotWaitForTheOtherWorkers) {
  absl::Notification first_posted;
  std::vector<std::vector<float>> after(2);
  const LocalStep local{.lr = 0.1f};
  const absl::Status status = RunWorkers(2, [&](int rank, Communicator& comm) -> absl::Status {
    TestWorker worker(Initial(0), kBuckets);
    ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm,
                     MakeAllReduceSgd({&comm, nullptr, worker.buffers(), {}}));
    RETURN_IF_ERROR(algorithm->Start());
    for (size_t e = 0; e < kLength; ++e) worker.grads[e] = Gradient(rank, 0, e);
    if (rank == 1 && !first_posted.WaitForNotificationWithTimeout(absl::Seconds(10))) {
      return absl::DeadlineExceededError("rank 0's UpdateAndPost waited for rank 1");
    }
    RETURN_IF_ERROR(algorithm->BeginStep(0, local));
    for (int bucket = 0; bucket < static_cast<int>(kBuckets.size()); ++bucket) {
      RETURN_IF_ERROR(algorithm->UpdateAndPost(bucket));
    }
    if (rank == 0) first_posted.Notify();
    RETURN_IF_ERROR(algorithm->EndStep());
    for (int bucket = 0; bucket < static_cast<int>(kBuckets.size()); ++bucket) {
      RETURN_IF_ERROR(algorithm->Combine(bucket));
    }
    EXPECT_EQ(algorithm->stats().messages_sent, 1 + static_cast<int64_t>(kBuckets.size()));
    after[rank] = worker.params;
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  std::vector<float> x = Initial(0), g(kLength), momentum;
  for (size_t e = 0; e < kLength; ++e) g[e] = (Gradient(0, 0, e) + Gradient(1, 0, e)) / 2;
  ASSERT_TRUE(cpu::SgdStep({local.lr, 0.0f, false, 0.0f}, x, g, momentum).ok());
  EXPECT_EQ(after[0], x);
  EXPECT_EQ(after[1], x);
}

TEST(AllReduceSgdStatsTest, OneAllReducePerBucketAndStep) {
  const absl::Status status = RunWorkers(2, [&](int, Communicator& comm) -> absl::Status {
    TestWorker worker(Initial(0), kBuckets);
    ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm,
                     MakeAllReduceSgd({&comm, nullptr, worker.buffers(), {}}));
    RETURN_IF_ERROR(algorithm->Start());  // the sync_init broadcast: one message
    for (int step = 0; step < 3; ++step) {
      RETURN_IF_ERROR(RunStep(*algorithm, step, {}, 1.0f, kBuckets.size()));
    }
    EXPECT_EQ(algorithm->stats().messages_sent, 1 + 3 * 3);
    EXPECT_EQ(algorithm->stats().bytes_sent, static_cast<int64_t>((1 + 3) * kLength * 4));
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

TEST(AllReduceSgdErrorTest, RejectsBadBucketsAndBadSteps) {
  const absl::Status status = RunWorkers(1, [&](int, Communicator& comm) -> absl::Status {
    TestWorker worker(Initial(0), kBuckets);
    WorkerBuffers gap = worker.buffers();
    gap.buckets[1].offset += 1;
    EXPECT_EQ(MakeAllReduceSgd({&comm, nullptr, gap, {}}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(MakeAllReduceSgd({nullptr, nullptr, worker.buffers(), {}}).status().code(),
              absl::StatusCode::kInvalidArgument);
    ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm,
                     MakeAllReduceSgd({&comm, nullptr, worker.buffers(), {}}));
    RETURN_IF_ERROR(algorithm->Start());
    EXPECT_EQ(algorithm->BeginStep(0, {.lr = 0.1f, .momentum = -1.0f}).code(),
              absl::StatusCode::kInvalidArgument);
    RETURN_IF_ERROR(algorithm->BeginStep(0, {}));
    EXPECT_EQ(algorithm->UpdateAndPost(3).code(), absl::StatusCode::kInvalidArgument);
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

}  // namespace
}  // namespace ald
