#include <cstring>

#include "Eigen/Dense"
#include "comm/algorithms/registry.h"
#include "comm/topology/topology_testing.h"
#include "comm/algorithms/algorithm_testing.h"
#include "comm/algorithms/decentralized_testing.h"
#include "comm/topology/network_graph.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::ald::testing::GossipCase;
using ::ald::testing::GossipRun;
using ::ald::testing::RunGossip;

const std::vector<size_t> kBuckets = {2, 5, 1};

Topology MakeTopology(const NetworkGraph& graph, Scheme scheme, double budget, uint64_t seed = 7) {
  TopologyOptions options;
  options.scheme = scheme;
  options.budget = budget;
  options.seed = seed;
  return testing::MustCreateTopology(graph, options);
}

GossipCase RandomCase(const Topology& topology, int steps) {
  GossipCase test_case;
  test_case.topology = &topology;
  test_case.options.sync_init = false;
  test_case.bucket_sizes = kBuckets;
  test_case.steps = steps;
  for (int rank = 0; rank < topology.nodes(); ++rank) {
    test_case.initial.push_back(testing::RandomVector(8, 100 + rank));
  }
  return test_case;
}

Eigen::MatrixXd Stack(const std::vector<std::vector<float>>& params) {
  Eigen::MatrixXd stacked(params.size(), params[0].size());
  for (size_t i = 0; i < params.size(); ++i) {
    for (size_t k = 0; k < params[i].size(); ++k) stacked(i, k) = params[i][k];
  }
  return stacked;
}

TEST(MatchaSgdTest, BudgetOneIsDpsgdBitwise) {
  // With c_b = 1 every matching is active every step, and MATCHA's optimised α is D-PSGD's
  // best constant 2/(λ₂ + λ_n) = 2/7 on matcha8: the same rule, so the same bits.
  const Topology matcha = MakeTopology(Matcha8Graph(), Scheme::kMatcha, 1.0);
  const Topology dpsgd = MakeTopology(Matcha8Graph(), Scheme::kStatic, 1.0);
  ASSERT_EQ(matcha.plan(0).matchings, dpsgd.plan(0).matchings);
  ASSERT_EQ(static_cast<float>(matcha.plan(0).alpha), static_cast<float>(dpsgd.plan(0).alpha));
  GossipCase test_case = RandomCase(matcha, 5);
  test_case.local.lr = 0.2f;
  test_case.gradient = testing::QuadraticGradient;
  absl::StatusOr<GossipRun> with_matcha = RunGossip(MakeMatchaSgd, test_case);
  test_case.topology = &dpsgd;
  absl::StatusOr<GossipRun> with_dpsgd = RunGossip(MakeDpsgd, test_case);
  ASSERT_TRUE(with_matcha.ok()) << with_matcha.status();
  ASSERT_TRUE(with_dpsgd.ok()) << with_dpsgd.status();
  for (int rank = 0; rank < 8; ++rank) {
    EXPECT_EQ(0, std::memcmp(with_matcha->final()[rank].data(), with_dpsgd->final()[rank].data(),
                             8 * sizeof(float)))
        << "rank " << rank;
  }
}

TEST(MatchaSgdTest, WorkersAgreeOnTheSampledMatchings) {
  // Each step must be x ← W(t)·x with the topology's sampled W(t): a worker that drew other
  // edges than its partner would mix with the wrong weights, or wait for a message never sent.
  const Topology topology = MakeTopology(Matcha8Graph(), Scheme::kMatcha, 0.5);
  const int steps = 15;
  absl::StatusOr<GossipRun> run = RunGossip(MakeMatchaSgd, RandomCase(topology, steps));
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<int64_t> messages(8, 0);
  bool varied = false;
  for (int step = 0; step < steps; ++step) {
    const Eigen::MatrixXd expected = topology.MixingMatrixAt(step) * Stack(run->history[step]);
    EXPECT_LT((Stack(run->history[step + 1]) - expected).cwiseAbs().maxCoeff(), 1e-6)
        << "step " << step;
    const std::vector<int> degrees = topology.ActiveDegrees(step);
    for (int rank = 0; rank < 8; ++rank) messages[rank] += degrees[rank] * 3;
    varied |= topology.ActiveMatchings(step) != topology.ActiveMatchings(0);
  }
  EXPECT_TRUE(varied) << "the schedule never changed; the test would not see disagreement";
  for (int rank = 0; rank < 8; ++rank) EXPECT_EQ(run->stats[rank].messages_sent, messages[rank]);
}

TEST(MatchaSgdTest, StepWithNoActiveMatchingSkipsCommunication) {
  // ring(8), c_b = 0.5: p = [0.5, 0.5], so about one step in four has no active matching.
  const Topology topology = MakeTopology(*RingGraph(8), Scheme::kMatcha, 0.5);
  int idle = -1;
  for (int step = 0; step < 64 && idle < 0; ++step) {
    if (topology.ActiveMatchings(step).empty()) idle = step;
  }
  ASSERT_GE(idle, 0);
  absl::StatusOr<GossipRun> run = RunGossip(MakeMatchaSgd, RandomCase(topology, idle + 1));
  ASSERT_TRUE(run.ok()) << run.status();
  for (int rank = 0; rank < 8; ++rank) {
    EXPECT_EQ(run->history[idle + 1][rank], run->history[idle][rank]) << "rank " << rank;
  }
}

TEST(MatchaSgdTest, NeedsTheMatchaScheme) {
  const Topology topology = MakeTopology(*RingGraph(4), Scheme::kStatic, 1.0);
  const absl::Status status = testing::RunWorkers(4, [&](int, Communicator& comm) -> absl::Status {
    testing::TestWorker worker(std::vector<float>(2, 0.0f), {2});
    return MakeMatchaSgd({&comm, &topology, worker.buffers(), {}}).status();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("matcha"), absl::string_view::npos) << status;
  EXPECT_NE(status.message().find("static"), absl::string_view::npos) << status;
}

}  // namespace
}  // namespace ald
