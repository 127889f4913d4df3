#include "comm/algorithms/lsgd.h"

#include <vector>

#include "comm/algorithms/algorithm_testing.h"
#include "core/status.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::ald::testing::RunStep;
using ::ald::testing::RunWorkers;
using ::ald::testing::TestWorker;

constexpr int kWorkers = 4;
const std::vector<size_t> kBuckets = {2, 1, 3};
constexpr size_t kLength = 6;

// Worker r starts at x_r[e] = r + e, so x_r - x_q = r - q everywhere.
std::vector<float> Initial(int rank) {
  std::vector<float> x(kLength);
  for (size_t e = 0; e < kLength; ++e) x[e] = static_cast<float>(rank + e);
  return x;
}

AlgorithmOptions Options(int tau, double lambda) {
  AlgorithmOptions options;
  options.tau = tau;
  options.lsgd_lambda = lambda;
  options.sync_init = false;
  return options;
}

// τ = 2, so steps 0 and 2 elect, each from the mean of the losses since the last election.
//   step 0: losses [0.7, 0.4, 0.4, 0.9]  -> averages the same; 1 and 2 tie -> leader 1
//   step 1: losses [0.1, 0.6, 0.6, 0.6]  (no election; the leader stays 1)
//   step 2: losses [0.5, 0.3, 0.4, 0.4]  -> averages of steps 1-2 [0.3, 0.45, 0.5, 0.5] -> 0,
//           although rank 1 has this step's lowest loss
//   step 3: losses [0.9, 0.0, 0.9, 0.9]  (no election; the leader stays 0)
TEST(LsgdTest, ElectsTheLowestRunningAverageLossTiesToTheLowestRank) {
  const std::vector<std::vector<float>> losses = {
      {0.7f, 0.4f, 0.4f, 0.9f}, {0.1f, 0.6f, 0.6f, 0.6f}, {0.5f, 0.3f, 0.4f, 0.4f},
      {0.9f, 0.0f, 0.9f, 0.9f}};
  const std::vector<int> expected_leader = {1, 1, 0, 0};
  const absl::Status status = RunWorkers(kWorkers, [&](int rank, Communicator& comm) {
    TestWorker worker(Initial(rank), kBuckets);
    ASSIGN_OR_RETURN(std::unique_ptr<Lsgd> lsgd,
                     Lsgd::Create({&comm, nullptr, worker.buffers(), Options(2, 0.1)}));
    RETURN_IF_ERROR(lsgd->Start());
    EXPECT_EQ(lsgd->leader(), -1);
    for (int step = 0; step < 4; ++step) {
      RETURN_IF_ERROR(RunStep(*lsgd, step, {.lr = 0.0f}, losses[step][rank], kBuckets.size()));
      EXPECT_EQ(lsgd->leader(), expected_leader[step]) << "rank " << rank << " step " << step;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

TEST(LsgdTest, AllEqualLossesElectRankZero) {
  const absl::Status status = RunWorkers(kWorkers, [&](int rank, Communicator& comm) {
    TestWorker worker(Initial(rank), kBuckets);
    ASSIGN_OR_RETURN(std::unique_ptr<Lsgd> lsgd,
                     Lsgd::Create({&comm, nullptr, worker.buffers(), Options(1, 0.1)}));
    RETURN_IF_ERROR(lsgd->Start());
    RETURN_IF_ERROR(RunStep(*lsgd, 0, {}, 0.25f, kBuckets.size()));
    EXPECT_EQ(lsgd->leader(), 0);
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

// λ = 0.25, γ = 0.1, g = 1 everywhere, τ = 2; losses [0.5, 0.2, 0.8, 0.2] elect rank 1 at step 0,
// and x_L = x_1 before its step 0: x_L[e] = 1 + e.
//   step 0: x_r ← x_r - 0.1 - 0.25·(x_r - x_L) = r + e - 0.1 - 0.25·(r - 1)
//   step 1 (no election: the pull is toward the same, now stale copy):
//     x_0 = e + 0.15  ← e + 0.15 - 0.1 - 0.25·(e + 0.15 - 1 - e) = e + 0.2625
//     x_1 = e + 0.9   ← e + 0.9 - 0.1 - 0.25·(e + 0.9 - 1 - e)   = e + 0.825 (the leader, too)
TEST(LsgdTest, PullsEveryWorkerTowardTheLatestLeaderCopy) {
  const std::vector<float> losses = {0.5f, 0.2f, 0.8f, 0.2f};
  const absl::Status status = RunWorkers(kWorkers, [&](int rank, Communicator& comm) {
    TestWorker worker(Initial(rank), kBuckets);
    ASSIGN_OR_RETURN(std::unique_ptr<Lsgd> lsgd,
                     Lsgd::Create({&comm, nullptr, worker.buffers(), Options(2, 0.25)}));
    RETURN_IF_ERROR(lsgd->Start());
    std::fill(worker.grads.begin(), worker.grads.end(), 1.0f);
    RETURN_IF_ERROR(RunStep(*lsgd, 0, {.lr = 0.1f}, losses[rank], kBuckets.size()));
    EXPECT_EQ(lsgd->leader(), 1);
    EXPECT_EQ(lsgd->leader_copy(), Initial(1)) << "rank " << rank;
    for (size_t e = 0; e < kLength; ++e) {
      EXPECT_NEAR(worker.params[e], rank + e - 0.1f - 0.25f * (rank - 1), 1e-5f)
          << "rank " << rank << " element " << e;
    }
    RETURN_IF_ERROR(RunStep(*lsgd, 1, {.lr = 0.1f}, losses[rank], kBuckets.size()));
    const float offset = rank == 0 ? 0.2625f : rank == 1 ? 0.825f : 0.0f;
    if (rank <= 1) {
      for (size_t e = 0; e < kLength; ++e) {
        EXPECT_NEAR(worker.params[e], e + offset, 1e-5f) << "rank " << rank << " element " << e;
      }
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

// With τ = 3 only steps 0, 3, 6 talk: one all-reduce of the losses and one broadcast per bucket.
TEST(LsgdTest, CommunicatesOnlyEveryTauSteps) {
  const absl::Status status = RunWorkers(kWorkers, [&](int rank, Communicator& comm) {
    TestWorker worker(Initial(rank), kBuckets);
    ASSIGN_OR_RETURN(std::unique_ptr<Lsgd> lsgd,
                     Lsgd::Create({&comm, nullptr, worker.buffers(), Options(3, 0.1)}));
    RETURN_IF_ERROR(lsgd->Start());
    for (int step = 0; step < 7; ++step) {
      const int64_t before = lsgd->stats().messages_sent;
      RETURN_IF_ERROR(RunStep(*lsgd, step, {}, 1.0f / (1 + rank), kBuckets.size()));
      EXPECT_EQ(lsgd->stats().messages_sent - before, step % 3 == 0 ? 1 + 3 : 0)
          << "step " << step;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

// --wire=bf16: the leader's model reaches the others rounded to bf16 (half the bytes); the
// leader keeps its own copy exact.
void ExpectLeadersModelRounded(WireFormat wire) {
  const std::vector<float> losses = {0.5f, 0.2f, 0.8f, 0.9f};
  auto initial = [](int rank) {
    std::vector<float> x = Initial(rank);
    for (float& value : x) value += 0.1f;  // not bf16 numbers
    return x;
  };
  const absl::Status status = RunWorkers(kWorkers, [&](int rank, Communicator& comm) {
    TestWorker worker(initial(rank), kBuckets);
    AlgorithmOptions options = Options(1, 0.25);
    options.wire = wire;
    options.seed = 3;
    ASSIGN_OR_RETURN(std::unique_ptr<Lsgd> lsgd,
                     Lsgd::Create({&comm, nullptr, worker.buffers(), options}));
    RETURN_IF_ERROR(lsgd->Start());
    const int64_t before = lsgd->stats().bytes_sent;
    RETURN_IF_ERROR(RunStep(*lsgd, 0, {.lr = 0.1f}, losses[rank], kBuckets.size()));
    EXPECT_EQ(lsgd->leader(), 1);
    // One all-reduce of the 4 loss averages (fp32), one broadcast per bucket at 2 bytes a float.
    EXPECT_EQ(lsgd->stats().bytes_sent - before, kWorkers * 4 + kLength * 2);
    const std::vector<float> leader = initial(1);
    const uint64_t key = WireRoundingKey(options.seed, 0, /*sender=*/1, WireStream::kLsgdLeader);
    for (size_t e = 0; e < kLength; ++e) {
      const float expected =
          rank == 1 ? leader[e] : RoundForWire(wire, leader[e], WireRounding{key, e});
      EXPECT_EQ(lsgd->leader_copy()[e], expected) << "rank " << rank << " element " << e;
      if (rank != 1) {
        EXPECT_NE(lsgd->leader_copy()[e], leader[e]) << "element " << e;
      }
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

// --wire=bf16: the leader's model reaches the others rounded to bf16 (half the bytes; each
// element as the leader's key draws it, or to nearest); the leader keeps its own copy exact.
TEST(LsgdTest, Bf16WireSendsTheLeadersModelRounded) {
  for (const WireFormat wire : {WireFormat::kBf16, WireFormat::kBf16Nearest}) {
    SCOPED_TRACE(WireFormatName(wire));
    ExpectLeadersModelRounded(wire);
  }
}

TEST(LsgdTest, ElectionStepNeedsTheLossFirst) {
  const absl::Status status = RunWorkers(1, [&](int, Communicator& comm) -> absl::Status {
    TestWorker worker(Initial(0), kBuckets);
    ASSIGN_OR_RETURN(std::unique_ptr<Lsgd> lsgd,
                     Lsgd::Create({&comm, nullptr, worker.buffers(), Options(1, 0.1)}));
    RETURN_IF_ERROR(lsgd->Start());
    RETURN_IF_ERROR(lsgd->BeginStep(0, {}));
    EXPECT_EQ(lsgd->UpdateAndPost(0).code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(Lsgd::Create({&comm, nullptr, worker.buffers(), Options(0, 0.1)}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Lsgd::Create({&comm, nullptr, worker.buffers(), Options(1, -1)}).status().code(),
              absl::StatusCode::kInvalidArgument);
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

}  // namespace
}  // namespace ald
