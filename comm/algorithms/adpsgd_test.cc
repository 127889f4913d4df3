#include "comm/algorithms/adpsgd.h"

#include <cmath>
#include <numeric>
#include <optional>
#include <vector>

#include "comm/algorithms/algorithm_testing.h"
#include "comm/topology/network_graph.h"
#include "comm/topology/topology.h"
#include "core/status.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::ald::testing::RunStep;
using ::ald::testing::RunWorkers;
using ::ald::testing::TestWorker;

const std::vector<size_t> kBuckets = {2, 3, 1};
constexpr size_t kLength = 6;
// A deadlock would show up as a communicator deadline, failing the test.
constexpr absl::Duration kTimeout = absl::Seconds(10);

std::vector<float> Initial(int rank) {
  std::vector<float> x(kLength);
  for (size_t e = 0; e < kLength; ++e) {
    x[e] = static_cast<float>(rank * rank) - 3.0f * static_cast<float>(e) + 0.37f * rank;
  }
  return x;
}

AlgorithmOptions NoSyncInit() {
  AlgorithmOptions options;
  options.sync_init = false;
  return options;
}

// ring(5) from rank 0: depths [0, 1, 2, 2, 1], so 0, 2, 3 are active and edge (2, 3) is unused.
TEST(AdpsgdTest, PairsActiveAndPassiveWorkersByBfsParity) {
  struct Role {
    bool active;
    std::vector<int> partners;
  };
  std::vector<Role> roles(5);
  const absl::Status status = RunWorkers(5, [&](int rank, Communicator& comm) -> absl::Status {
    TestWorker worker(Initial(rank), kBuckets);
    ASSIGN_OR_RETURN(std::unique_ptr<Adpsgd> adpsgd,
                     Adpsgd::Create({&comm, nullptr, worker.buffers(), {}}));
    roles[rank] = {adpsgd->active(), adpsgd->partners()};
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  const std::vector<bool> active = {true, false, true, true, false};
  const std::vector<std::vector<int>> partners = {{1, 4}, {0, 2}, {1}, {4}, {0, 3}};
  for (int rank = 0; rank < 5; ++rank) {
    EXPECT_EQ(roles[rank].active, active[rank]) << "rank " << rank;
    EXPECT_EQ(roles[rank].partners, partners[rank]) << "rank " << rank;
  }
}

// One average between two workers: both end with (x_0 + x_1)/2 of the same pre-average values.
TEST(AdpsgdTest, PairwiseAverageIsAtomic) {
  std::vector<std::vector<float>> final_params(2);
  const absl::Status status = RunWorkers(
      2,
      [&](int rank, Communicator& comm) -> absl::Status {
        TestWorker worker(Initial(rank), kBuckets);
        ASSIGN_OR_RETURN(std::unique_ptr<Adpsgd> adpsgd,
                         Adpsgd::Create({&comm, nullptr, worker.buffers(), NoSyncInit()}));
        RETURN_IF_ERROR(adpsgd->Start());
        RETURN_IF_ERROR(RunStep(*adpsgd, 0, {}, 1.0f, kBuckets.size()));  // zero gradients
        RETURN_IF_ERROR(adpsgd->Stop());
        final_params[rank] = worker.params;
        return absl::OkStatus();
      },
      kTimeout);
  ASSERT_TRUE(status.ok()) << status;
  const std::vector<float> x0 = Initial(0), x1 = Initial(1);
  for (size_t e = 0; e < kLength; ++e) {
    EXPECT_EQ(final_params[0][e], (x0[e] + x1[e]) / 2) << "element " << e;
    EXPECT_EQ(final_params[1][e], (x0[e] + x1[e]) / 2) << "element " << e;
  }
}

struct AdpsgdRun {
  std::vector<std::vector<float>> params;  // per rank, after Stop()
  std::vector<CommStats> stats;
};

// `steps` steps on every worker of `workers`, over `graph` (a ring when empty). With
// `lockstep`, the test (not the algorithm) puts a barrier after every step, so that the
// actives' averages interleave; without it the schedule is whatever the threads make of it.
absl::StatusOr<AdpsgdRun> RunAdpsgd(int workers, int steps, const std::optional<NetworkGraph>& graph,
                                    bool zero_gradients, bool lockstep = false) {
  std::optional<Topology> topology;
  if (graph.has_value()) {
    ASSIGN_OR_RETURN(topology, Topology::Create(*graph, {}));
  }
  AdpsgdRun run;
  run.params.resize(workers);
  run.stats.resize(workers);
  RETURN_IF_ERROR(RunWorkers(
      workers,
      [&](int rank, Communicator& comm) -> absl::Status {
        TestWorker worker(Initial(rank), kBuckets);
        const Topology* base = topology.has_value() ? &*topology : nullptr;
        ASSIGN_OR_RETURN(std::unique_ptr<Adpsgd> adpsgd,
                         Adpsgd::Create({&comm, base, worker.buffers(), NoSyncInit()}));
        RETURN_IF_ERROR(adpsgd->Start());
        const LocalStep local{.lr = 0.01f, .momentum = 0.9f, .weight_decay = 1e-3f};
        for (int step = 0; step < steps; ++step) {
          for (size_t e = 0; e < kLength; ++e) {
            worker.grads[e] = zero_gradients ? 0.0f : worker.params[e] - static_cast<float>(rank);
          }
          RETURN_IF_ERROR(RunStep(*adpsgd, step, zero_gradients ? LocalStep{} : local, 1.0f,
                                  kBuckets.size()));
          if (lockstep) RETURN_IF_ERROR(comm.Barrier());
        }
        RETURN_IF_ERROR(adpsgd->Stop());
        run.params[rank] = worker.params;
        run.stats[rank] = adpsgd->stats();
        return absl::OkStatus();
      },
      kTimeout));
  return run;
}

double ConsensusDistance(const std::vector<std::vector<float>>& params) {
  std::vector<double> mean(kLength, 0.0);
  for (const auto& x : params) {
    for (size_t e = 0; e < kLength; ++e) mean[e] += x[e] / static_cast<double>(params.size());
  }
  double distance = 0;
  for (const auto& x : params) {
    for (size_t e = 0; e < kLength; ++e) distance += (x[e] - mean[e]) * (x[e] - mean[e]);
  }
  return std::sqrt(distance);
}

class AdpsgdManyWorkersTest : public ::testing::TestWithParam<int> {};

// With zero gradients only the averages move the models: each conserves the sum of all
// parameters and, being a projection, never moves the workers away from their mean.
TEST_P(AdpsgdManyWorkersTest, AveragesConserveTheSumWithoutBarriers) {
  const int workers = GetParam();
  std::vector<std::vector<float>> initial;
  for (int rank = 0; rank < workers; ++rank) initial.push_back(Initial(rank));
  absl::StatusOr<AdpsgdRun> run = RunAdpsgd(workers, 200, std::nullopt, /*zero_gradients=*/true);
  ASSERT_TRUE(run.ok()) << run.status();
  for (size_t e = 0; e < kLength; ++e) {
    double before = 0, after = 0;
    for (int rank = 0; rank < workers; ++rank) {
      before += initial[rank][e];
      after += run->params[rank][e];
    }
    EXPECT_NEAR(after, before, 1e-5 * (1 + std::abs(before))) << "element " << e;
  }
  // How far they get depends on how the threads interleave (one active may finish all its
  // steps before another starts); the lockstep test below checks the rate.
  EXPECT_LT(ConsensusDistance(run->params), ConsensusDistance(initial));
  // Every active sent 200 requests and a goodbye per partner; the passives answered them all.
  int64_t sent = 0;
  for (const CommStats& stats : run->stats) sent += stats.messages_sent;
  const int actives = (workers + 1) / 2;
  EXPECT_EQ(sent, actives * (2 * 200 + 2)) << "requests, replies and goodbyes";
}

TEST_P(AdpsgdManyWorkersTest, AveragesReachConsensusWhenInterleaved) {
  const int workers = GetParam();
  std::vector<std::vector<float>> initial;
  for (int rank = 0; rank < workers; ++rank) initial.push_back(Initial(rank));
  absl::StatusOr<AdpsgdRun> run =
      RunAdpsgd(workers, 200, std::nullopt, /*zero_gradients=*/true, /*lockstep=*/true);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_LT(ConsensusDistance(run->params), 1e-3 * ConsensusDistance(initial));
}

// Real gradients, momentum, weight decay, and an uneven graph: it finishes, finite.
TEST_P(AdpsgdManyWorkersTest, RunsManyStepsWithGradientsOnATorus) {
  const int workers = GetParam();
  absl::StatusOr<NetworkGraph> torus = TorusGraph(workers);
  ASSERT_TRUE(torus.ok()) << torus.status();
  absl::StatusOr<AdpsgdRun> run = RunAdpsgd(workers, 200, *torus, /*zero_gradients=*/false);
  ASSERT_TRUE(run.ok()) << run.status();
  for (const auto& x : run->params) {
    for (float value : x) EXPECT_TRUE(std::isfinite(value));
  }
}

INSTANTIATE_TEST_SUITE_P(FourAndEight, AdpsgdManyWorkersTest, ::testing::Values(4, 8));

TEST(AdpsgdTest, OddRingAndSingleWorkerFinish) {
  for (int workers : {1, 5}) {
    absl::StatusOr<AdpsgdRun> run = RunAdpsgd(workers, 50, std::nullopt, /*zero_gradients=*/false);
    EXPECT_TRUE(run.ok()) << workers << " workers: " << run.status();
  }
}

// A passive whose active neighbour never starts gives up at the deadline and says on whom.
TEST(AdpsgdTest, StopReportsSilentNeighboursAtTheDeadline) {
  const absl::Status status = RunWorkers(
      2,
      [&](int rank, Communicator& comm) -> absl::Status {
        if (rank == 0) return absl::OkStatus();  // the active never takes part
        TestWorker worker(Initial(rank), kBuckets);
        ASSIGN_OR_RETURN(std::unique_ptr<Adpsgd> adpsgd,
                         Adpsgd::Create({&comm, nullptr, worker.buffers(), NoSyncInit()}));
        RETURN_IF_ERROR(adpsgd->Start());
        RETURN_IF_ERROR(RunStep(*adpsgd, 0, {}, 1.0f, kBuckets.size()));
        const absl::Status stopped = adpsgd->Stop();
        // Rank 0 returned at once and its communicator lives on, so nothing fails early.
        EXPECT_EQ(stopped.code(), absl::StatusCode::kDeadlineExceeded) << stopped;
        EXPECT_NE(stopped.message().find("neighbour(s) 0"), absl::string_view::npos) << stopped;
        return absl::OkStatus();
      },
      absl::Milliseconds(300));
  ASSERT_TRUE(status.ok()) << status;
}

}  // namespace
}  // namespace ald
