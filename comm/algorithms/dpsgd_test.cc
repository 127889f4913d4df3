#include "comm/algorithms/dpsgd.h"
#include "comm/topology/topology_testing.h"

#include <cmath>
#include <cstring>
#include <thread>

#include "Eigen/Dense"
#include "comm/algorithms/registry.h"
#include "comm/algorithms/algorithm_testing.h"
#include "comm/algorithms/decentralized_testing.h"
#include "comm/topology/network_graph.h"
#include "comm/topology/mixing_weights.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::ald::testing::GossipCase;
using ::ald::testing::GossipRun;
using ::ald::testing::RandomVector;
using ::ald::testing::RunGossip;

const std::vector<size_t> kBuckets = {3, 1, 4};  // 8 floats in buckets of different sizes

Topology MakeStatic(const NetworkGraph& graph, WeightRule weights = WeightRule::kBestConstant) {
  TopologyOptions options;
  options.weights = weights;
  return testing::MustCreateTopology(graph, options);
}

GossipCase RandomCase(const Topology& topology, uint64_t seed) {
  GossipCase test_case;
  test_case.topology = &topology;
  test_case.options.sync_init = false;
  test_case.bucket_sizes = kBuckets;
  for (int rank = 0; rank < topology.nodes(); ++rank) {
    test_case.initial.push_back(RandomVector(8, seed + rank));
  }
  return test_case;
}

// Workers x elements.
Eigen::MatrixXd Stack(const std::vector<std::vector<float>>& params) {
  Eigen::MatrixXd stacked(params.size(), params[0].size());
  for (size_t i = 0; i < params.size(); ++i) {
    for (size_t k = 0; k < params[i].size(); ++k) stacked(i, k) = params[i][k];
  }
  return stacked;
}

// ‖X − 1·x̄ᵀ‖_F: how far the workers are from their average.
double ConsensusDistance(const std::vector<std::vector<float>>& params) {
  const Eigen::MatrixXd x = Stack(params);
  return (x.rowwise() - x.colwise().mean()).norm();
}

TEST(DpsgdTest, CompleteGraphWithUniformWeightsAveragesInOneStep) {
  const Topology topology = MakeStatic(*CompleteGraph(5), WeightRule::kUniform);
  const GossipCase test_case = RandomCase(topology, 11);
  absl::StatusOr<GossipRun> run = RunGossip(MakeDpsgd, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  const Eigen::RowVectorXd mean = Stack(test_case.initial).colwise().mean();
  for (int rank = 0; rank < 5; ++rank) {
    for (int k = 0; k < 8; ++k) {
      EXPECT_NEAR(run->final()[rank][k], mean(k), 1e-6) << "rank " << rank << ", element " << k;
    }
  }
}

TEST(DpsgdTest, StepIsLocalSgdThenMixing) {
  // Adapt then combine: x⁺ = W·(x − γ·(g + wd·x)), with W the topology's matrix.
  const Topology topology = MakeStatic(*RingGraph(6));
  GossipCase test_case = RandomCase(topology, 21);
  test_case.local = {.lr = 0.3f, .weight_decay = 0.01f};
  test_case.gradient = testing::QuadraticGradient;
  absl::StatusOr<GossipRun> run = RunGossip(MakeDpsgd, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  Eigen::MatrixXd y = Stack(test_case.initial);
  for (int rank = 0; rank < 6; ++rank) {
    std::vector<float> grads(8);
    testing::QuadraticGradient(rank, test_case.initial[rank], grads);
    for (int k = 0; k < 8; ++k) y(rank, k) -= 0.3 * (grads[k] + 0.01 * y(rank, k));
  }
  const Eigen::MatrixXd expected = topology.MixingMatrixAt(0) * y;
  EXPECT_LT((Stack(run->final()) - expected).cwiseAbs().maxCoeff(), 1e-6);
}

// Adapt with combine (Lian et al.): x⁺ = W·x − γ·(g(x) + wd·x), two steps, momentum included
// (the buffer is local, so it follows the own gradient exactly as in plain SGD).
TEST(DpsgdTest, AdaptWithCombineMixesPreStepModelsThenSteps) {
  const Topology topology = MakeStatic(*RingGraph(6));
  GossipCase test_case = RandomCase(topology, 23);
  test_case.options.combine = CombineOrder::kAdaptWithCombine;
  test_case.local = {.lr = 0.3f, .momentum = 0.5f, .weight_decay = 0.01f};
  test_case.gradient = testing::QuadraticGradient;
  test_case.steps = 2;
  absl::StatusOr<GossipRun> run = RunGossip(MakeDpsgd, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  Eigen::MatrixXd x = Stack(test_case.initial), buffer = Eigen::MatrixXd::Zero(6, 8);
  for (int step = 0; step < 2; ++step) {
    Eigen::MatrixXd update(6, 8);
    for (int rank = 0; rank < 6; ++rank) {
      std::vector<float> at(8), grads(8);
      for (int k = 0; k < 8; ++k) at[k] = static_cast<float>(x(rank, k));
      testing::QuadraticGradient(rank, at, grads);
      for (int k = 0; k < 8; ++k) {
        buffer(rank, k) = 0.5 * buffer(rank, k) + grads[k] + 0.01 * x(rank, k);
        update(rank, k) = 0.3 * buffer(rank, k);
      }
    }
    x = topology.MixingMatrixAt(step) * x - update;
    EXPECT_LT((Stack(run->history[step + 1]) - x).cwiseAbs().maxCoeff(), 1e-5)
        << "step " << step;
  }
}

// The defining property of the AWC form on a complete graph with equal weights: every worker
// lands on the average of the pre-step models plus its own step.
TEST(DpsgdTest, AdaptWithCombineOnACompleteGraphIsTheMeanPlusTheOwnStep) {
  const Topology topology = MakeStatic(*CompleteGraph(5), WeightRule::kUniform);
  GossipCase test_case = RandomCase(topology, 13);
  test_case.options.combine = CombineOrder::kAdaptWithCombine;
  test_case.local = {.lr = 0.2f};
  test_case.gradient = testing::QuadraticGradient;
  absl::StatusOr<GossipRun> run = RunGossip(MakeDpsgd, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  const Eigen::RowVectorXd mean = Stack(test_case.initial).colwise().mean();
  for (int rank = 0; rank < 5; ++rank) {
    std::vector<float> grads(8);
    testing::QuadraticGradient(rank, test_case.initial[rank], grads);
    for (int k = 0; k < 8; ++k) {
      EXPECT_NEAR(run->final()[rank][k], mean(k) - 0.2 * grads[k], 1e-6)
          << "rank " << rank << ", element " << k;
    }
  }
}

TEST(DpsgdTest, RingConsensusShrinksAtTheSpectralRate) {
  // With zero gradients x ← W·x; the part of x off the average shrinks per step by at most
  // |λ₂(W)| = 1 − spectral gap, and by that factor asymptotically (ring(8): both ends of W's
  // spectrum have |μ| = 0.7445, the next 0.489, so after 10 steps they dominate).
  const Topology topology = MakeStatic(*RingGraph(8));
  GossipCase test_case = RandomCase(topology, 31);
  // A zero-mean start keeps x̄ ≈ 0, so the float rounding stays far below the distance.
  const Eigen::RowVectorXd mean = Stack(test_case.initial).colwise().mean();
  for (auto& x : test_case.initial) {
    for (int k = 0; k < 8; ++k) x[k] -= static_cast<float>(mean(k));
  }
  test_case.steps = 20;
  absl::StatusOr<GossipRun> run = RunGossip(MakeDpsgd, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  const double rate = 1.0 - SpectralGap(topology.MixingMatrixAt(0));
  EXPECT_NEAR(rate, 0.7445, 1e-3);
  for (int step = 1; step <= 20; ++step) {
    const double ratio =
        ConsensusDistance(run->history[step]) / ConsensusDistance(run->history[step - 1]);
    EXPECT_LE(ratio, rate * (1 + 1e-4)) << "step " << step;
  }
  // Tolerance 1% on the geometric mean of the last 10 steps' factors.
  const double late =
      std::pow(ConsensusDistance(run->history[20]) / ConsensusDistance(run->history[10]), 0.1);
  EXPECT_NEAR(late, rate, 0.01 * rate);
}

TEST(DpsgdTest, SyncInitAdoptsRankZeroParameters) {
  const Topology topology = MakeStatic(*RingGraph(4));
  GossipCase test_case = RandomCase(topology, 41);
  test_case.options.sync_init = true;
  test_case.steps = 0;
  absl::StatusOr<GossipRun> run = RunGossip(MakeDpsgd, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  for (int rank = 0; rank < 4; ++rank) EXPECT_EQ(run->final()[rank], test_case.initial[0]);
}

TEST(DpsgdTest, CountsMessagesAndBytesAndIsReproducible) {
  const Topology topology = MakeStatic(Matcha8Graph());
  GossipCase test_case = RandomCase(topology, 51);
  test_case.local.lr = 0.1f;
  test_case.gradient = testing::QuadraticGradient;
  test_case.steps = 3;
  absl::StatusOr<GossipRun> first = RunGossip(MakeDpsgd, test_case);
  absl::StatusOr<GossipRun> second = RunGossip(MakeDpsgd, test_case);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  const std::vector<int> degrees = Matcha8Graph().degrees();
  for (int rank = 0; rank < 8; ++rank) {
    // One message per neighbour, bucket and step; the model once per neighbour and step.
    EXPECT_EQ(first->stats[rank].messages_sent, degrees[rank] * 3 * 3);
    EXPECT_EQ(first->stats[rank].bytes_sent, degrees[rank] * 8 * 4 * 3);
    // The combine sums in a fixed order, so thread timing never changes a bit.
    EXPECT_EQ(0, std::memcmp(first->final()[rank].data(), second->final()[rank].data(),
                             8 * sizeof(float)));
  }
}

// One D-PSGD step of RandomCase over `topology` on `wire`, against x_i ← W_ii·x_i + Σ_j W_ij·b(x_j)
// with b as each sender's message rounds (RoundForWire: the run's seed, step 0, the sender, the
// stream of the combine order's exchange, the element's index in the whole model).
void ExpectBf16WireCombine(const Topology& topology, WireFormat wire, CombineOrder combine) {
  GossipCase test_case = RandomCase(topology, 61);
  test_case.options.combine = combine;
  test_case.options.seed = 17;
  test_case.local.lr = 0.3f;
  test_case.options.wire = wire;
  absl::StatusOr<GossipRun> bf16 = RunGossip(MakeDpsgd, test_case);
  test_case.options.wire = WireFormat::kFp32;
  absl::StatusOr<GossipRun> fp32 = RunGossip(MakeDpsgd, test_case);
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  ASSERT_TRUE(fp32.ok()) << fp32.status();
  const WireStream stream = combine == CombineOrder::kAdaptWithCombine
                                ? WireStream::kPreStepModel
                                : WireStream::kModel;
  const int n = static_cast<int>(test_case.initial.size());
  const Eigen::MatrixXd x = Stack(test_case.initial);
  Eigen::MatrixXd rounded = x;
  for (int rank = 0; rank < n; ++rank) {
    const uint64_t key = WireRoundingKey(test_case.options.seed, 0, rank, stream);
    for (int k = 0; k < static_cast<int>(x.cols()); ++k) {
      rounded(rank, k) = RoundForWire(wire, test_case.initial[rank][k],
                                      WireRounding{key, static_cast<size_t>(k)});
    }
  }
  const Eigen::MatrixXd w = topology.MixingMatrixAt(0);
  const Eigen::MatrixXd diagonal = w.diagonal().asDiagonal();
  const Eigen::MatrixXd expected = diagonal * x + (w - diagonal) * rounded;
  const Eigen::MatrixXd got = Stack(bf16->final());
  EXPECT_LT((got - expected).cwiseAbs().maxCoeff(), 1e-6);
  // Rounding matters here (RandomCase's values are not bf16 numbers): the fp32 wire, and a
  // rule that rounded the own model too, both land elsewhere.
  EXPECT_GT((Stack(fp32->final()) - got).cwiseAbs().maxCoeff(), 1e-4);
  EXPECT_GT((w * rounded - got).cwiseAbs().maxCoeff(), 1e-4);
}

// --wire=bf16's defining property (comm/wire_format.h): with zero gradients y = x,
// and one step gives x_i ← W_ii·x_i + Σ_j W_ij·b(x_j): every neighbour's model rounded to
// bf16 (as the sender's key draws it, or to nearest), the own model not, the sum in fp32. Either
// combine order (adapt with combine sends the pre-step model in whole-model messages, adapt then
// combine the stepped buckets), so the rounding must not depend on how the model is cut.
TEST(DpsgdTest, Bf16WireCombinesTheOwnModelWithRoundedNeighbours) {
  const Topology topology = MakeStatic(*RingGraph(6));
  for (const WireFormat wire : {WireFormat::kBf16, WireFormat::kBf16Nearest}) {
    for (const CombineOrder combine :
         {CombineOrder::kAdaptThenCombine, CombineOrder::kAdaptWithCombine}) {
      SCOPED_TRACE(::testing::Message() << WireFormatName(wire) << ", combine " << int(combine));
      ExpectBf16WireCombine(topology, wire, combine);
    }
  }
}

// The point of the bf16 wire: the same messages at half the bytes.
TEST(DpsgdTest, Bf16WireHalvesTheBytesSent) {
  const Topology topology = MakeStatic(Matcha8Graph());
  for (const CombineOrder combine :
       {CombineOrder::kAdaptThenCombine, CombineOrder::kAdaptWithCombine}) {
    GossipCase test_case = RandomCase(topology, 71);
    test_case.options.combine = combine;
    test_case.steps = 2;
    absl::StatusOr<GossipRun> fp32 = RunGossip(MakeDpsgd, test_case);
    test_case.options.wire = WireFormat::kBf16;
    absl::StatusOr<GossipRun> bf16 = RunGossip(MakeDpsgd, test_case);
    ASSERT_TRUE(fp32.ok()) << fp32.status();
    ASSERT_TRUE(bf16.ok()) << bf16.status();
    const std::vector<int> degrees = Matcha8Graph().degrees();
    for (int rank = 0; rank < 8; ++rank) {
      EXPECT_EQ(fp32->stats[rank].bytes_sent, degrees[rank] * 8 * 4 * 2);
      EXPECT_EQ(bf16->stats[rank].bytes_sent, degrees[rank] * 8 * 2 * 2);
      EXPECT_EQ(bf16->stats[rank].messages_sent, fp32->stats[rank].messages_sent);
    }
  }
}

// x_{t+1} = W(t)·x_t with zero gradients, W(t) the topology's matrix at step t, for `steps`.
void ExpectMixingByTheTopologysMatrices(const testing::MakeAlgorithm& make,
                                        const Topology& topology, int steps) {
  GossipCase test_case = RandomCase(topology, 5);
  test_case.steps = steps;
  absl::StatusOr<GossipRun> run = RunGossip(make, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  for (int t = 0; t < steps; ++t) {
    const Eigen::MatrixXd expected = topology.MixingMatrixAt(t) * Stack(run->history[t]);
    EXPECT_TRUE(Stack(run->history[t + 1]).isApprox(expected, 1e-5)) << "step " << t;
  }
}

// --graphs=K for the baselines: D-PSGD and MATCHA walk copy t mod K of the graph, as AL-DSGD
// does; the copies' matrices differ, so a rule stuck on copy 0 fails.
TEST(DpsgdTest, BaselinesWalkTheGraphCopiesToo) {
  TopologyOptions options;
  options.copies = 2;
  const Topology dpsgd = testing::MustCreateTopology(Matcha8Graph(), options);
  ASSERT_FALSE(dpsgd.MixingMatrixAt(0).isApprox(dpsgd.MixingMatrixAt(1)));
  ExpectMixingByTheTopologysMatrices(MakeDpsgd, dpsgd, 4);
  options.scheme = Scheme::kMatcha;
  options.budget = 0.5;
  options.seed = 9;
  ExpectMixingByTheTopologysMatrices(MakeMatchaSgd, testing::MustCreateTopology(Matcha8Graph(), options),
                                     6);
}

// --dpsgd_schedule=alternate through the algorithm: one matching per step, so each worker has
// at most one neighbour, and idle workers keep their model.
TEST(DpsgdTest, AlternatingScheduleGossipsWithOnePeerPerStep) {
  TopologyOptions options;
  options.copies = 2;
  options.schedule = StaticSchedule::kAlternate;
  const Topology topology = testing::MustCreateTopology(Matcha8Graph(), options);
  for (int64_t t = 0; t < 4; ++t) {
    for (int degree : topology.ActiveDegrees(t)) EXPECT_LE(degree, 1);
  }
  ExpectMixingByTheTopologysMatrices(MakeDpsgd, topology, 4);
  GossipCase test_case = RandomCase(topology, 5);
  absl::StatusOr<GossipRun> run = RunGossip(MakeDpsgd, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  // Step 0: copy 0's matching 1 (1-7, 3-6) alone; workers 0, 2, 4, 5 sit it out.
  for (int idle : {0, 2, 4, 5}) EXPECT_EQ(run->history[1][idle], run->history[0][idle]);
  EXPECT_NE(run->history[1][1], run->history[0][1]);
}

TEST(DpsgdTest, NeedsTheStaticScheme) {
  TopologyOptions options;
  options.scheme = Scheme::kMatcha;
  options.budget = 0.5;
  absl::StatusOr<Topology> topology = Topology::Create(Matcha8Graph(), options);
  ASSERT_TRUE(topology.ok()) << topology.status();
  const absl::Status status =
      testing::RunWorkers(8, [&](int rank, Communicator& comm) -> absl::Status {
        testing::TestWorker worker(std::vector<float>(2, rank), {2});
        return MakeDpsgd({&comm, &*topology, worker.buffers(), {}}).status();
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("dpsgd"), absl::string_view::npos) << status;
  EXPECT_NE(status.message().find("matcha"), absl::string_view::npos) << status;
}

TEST(DpsgdTest, RejectsBucketsThatDoNotTileTheBuffers) {
  const Topology topology = MakeStatic(*RingGraph(3));
  const absl::Status status = testing::RunWorkers(3, [&](int, Communicator& comm) -> absl::Status {
    testing::TestWorker worker(std::vector<float>(5, 0.0f), {2, 2});
    return MakeDpsgd({&comm, &topology, worker.buffers(), {}}).status();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

// Runs one step on ring(4) where rank 3 misbehaves as `rank3` says; returns rank 0's status.
absl::Status RankZeroWithBadNeighbor(const std::function<absl::Status()>& rank3,
                                     absl::Duration timeout) {
  const Topology topology = MakeStatic(*RingGraph(4));
  std::vector<absl::Status> statuses(4);
  absl::Status run = testing::RunWorkers(
      4,
      [&](int rank, Communicator& comm) -> absl::Status {
        if (rank == 3) return rank3();
        testing::TestWorker worker(std::vector<float>(3, rank), {1, 2});
        AlgorithmOptions options;
        options.sync_init = false;
        absl::StatusOr<std::unique_ptr<Algorithm>> dpsgd =
            MakeDpsgd({&comm, &topology, worker.buffers(), options});
        statuses[rank] = dpsgd.ok() ? testing::RunStep(**dpsgd, 0, {}, 0.0f, 2) : dpsgd.status();
        return absl::OkStatus();  // recorded, so that only rank 3 is seen to fail
      },
      timeout);
  return statuses[0];
}

TEST(DpsgdTest, FailedNeighborIsReportedByRank) {
  const absl::Status status = RankZeroWithBadNeighbor(
      [] { return absl::InternalError("rank 3 crashed"); }, absl::Seconds(20));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find("rank 3"), absl::string_view::npos) << status;
}

TEST(DpsgdTest, SilentNeighborTimesOut) {
  // Rank 3 stays alive but never sends: rank 0 gives up after the timeout, naming it.
  const absl::Status status = RankZeroWithBadNeighbor(
      [] {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        return absl::OkStatus();
      },
      absl::Milliseconds(300));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_NE(status.message().find("rank 3"), absl::string_view::npos) << status;
}

}  // namespace
}  // namespace ald
