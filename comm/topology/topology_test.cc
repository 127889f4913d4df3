#include "comm/topology/topology.h"
#include "comm/topology/topology_testing.h"

#include <algorithm>
#include <set>

#include "gtest/gtest.h"

namespace ald {
namespace {

Topology Make(const NetworkGraph& graph, Scheme scheme, double budget, int copies,
              WeightRule weights = WeightRule::kBestConstant) {
  TopologyOptions options;
  options.scheme = scheme;
  options.budget = budget;
  options.copies = copies;
  options.seed = 2024;
  options.weights = weights;
  return testing::MustCreateTopology(graph, options);
}

// The properties every step of every topology must have: agreement, symmetry of the pairwise
// exchanges, ascending exchange order, weights matching W, and W averaging.
void ExpectConsistentStep(const Topology& topology, int64_t step) {
  const Eigen::MatrixXd mixing = topology.MixingMatrixAt(step);
  EXPECT_TRUE(CheckMixingMatrix(mixing, 1e-12).ok()) << "step " << step;
  const std::vector<int> degrees = topology.ActiveDegrees(step);
  const NetworkGraph& graph = topology.graph(topology.CopyAt(step));
  const std::vector<Matching>& matchings = topology.plan(topology.CopyAt(step)).matchings;
  std::vector<int> first_active;
  for (int i = 0; i < topology.nodes(); ++i) {
    absl::StatusOr<Neighborhood> hood = topology.NeighborhoodAt(step, i);
    ASSERT_TRUE(hood.ok()) << hood.status();
    if (i == 0) first_active = hood->active_matchings;
    EXPECT_EQ(hood->active_matchings, first_active) << "workers disagree at step " << step;
    EXPECT_EQ(hood->degree(), degrees[i]);
    double off_diagonal = 0.0;
    int previous_matching = -1;
    for (const ActiveNeighbor& neighbor : hood->neighbors) {
      EXPECT_GT(neighbor.matching, previous_matching) << "exchange order must ascend";
      previous_matching = neighbor.matching;
      EXPECT_TRUE(graph.HasEdge(i, neighbor.rank));
      const Matching& matching = matchings[neighbor.matching];
      EXPECT_NE(std::find(matching.begin(), matching.end(), MakeEdge(i, neighbor.rank)),
                matching.end());
      EXPECT_DOUBLE_EQ(mixing(i, neighbor.rank), neighbor.weight);
      off_diagonal += neighbor.weight;
      // The partner sees this worker in the same round with the same weight.
      absl::StatusOr<Neighborhood> other = topology.NeighborhoodAt(step, neighbor.rank);
      ASSERT_TRUE(other.ok());
      const auto back = std::find_if(other->neighbors.begin(), other->neighbors.end(),
                                     [&](const ActiveNeighbor& n) { return n.rank == i; });
      ASSERT_NE(back, other->neighbors.end());
      EXPECT_EQ(back->matching, neighbor.matching);
      EXPECT_DOUBLE_EQ(back->weight, neighbor.weight);
    }
    EXPECT_NEAR(hood->self_weight, mixing(i, i), 1e-12);
    EXPECT_NEAR(hood->self_weight + off_diagonal, 1.0, 1e-12);
  }
}

TEST(TopologyTest, StaticRingIsDpsgdWithBestConstant) {
  const NetworkGraph ring = *RingGraph(8);
  const Topology topology = Make(ring, Scheme::kStatic, 1.0, 1);
  const double alpha = BestConstantAlpha(Laplacian(ring));
  for (int64_t step = 0; step < 20; ++step) {
    EXPECT_EQ(topology.ActiveMatchings(step), (std::vector<int>{0, 1}));
    absl::StatusOr<Neighborhood> hood = topology.NeighborhoodAt(step, 3);
    ASSERT_TRUE(hood.ok());
    ASSERT_EQ(hood->degree(), 2);
    std::set<int> ranks{hood->neighbors[0].rank, hood->neighbors[1].rank};
    EXPECT_EQ(ranks, (std::set<int>{2, 4}));
    EXPECT_DOUBLE_EQ(hood->neighbors[0].weight, alpha);
    EXPECT_NEAR(hood->self_weight, 1 - 2 * alpha, 1e-15);
    EXPECT_TRUE(
        topology.MixingMatrixAt(step).isApprox(MixingMatrix(ring, WeightRule::kBestConstant)));
  }
  ExpectConsistentStep(topology, 0);
}

TEST(TopologyTest, StaticMetropolisHastingsWeights) {
  const NetworkGraph star = *StarGraph(5);
  const Topology topology = Make(star, Scheme::kStatic, 1.0, 1, WeightRule::kMetropolisHastings);
  EXPECT_TRUE(
      topology.MixingMatrixAt(7).isApprox(MixingMatrix(star, WeightRule::kMetropolisHastings)));
  absl::StatusOr<Neighborhood> leaf = topology.NeighborhoodAt(7, 2);
  ASSERT_TRUE(leaf.ok());
  ASSERT_EQ(leaf->degree(), 1);
  EXPECT_EQ(leaf->neighbors[0].rank, 0);
  EXPECT_DOUBLE_EQ(leaf->neighbors[0].weight, 1.0 / 5);
  EXPECT_DOUBLE_EQ(leaf->self_weight, 4.0 / 5);
  ExpectConsistentStep(topology, 7);
}

TEST(TopologyTest, Matcha8AllMatchingsIsTheReferenceCase) {
  // DESIGN.md's AL-DSGD reference: all 5 matchings of matcha8 with alpha = 2/7.
  const Topology topology = Make(Matcha8Graph(), Scheme::kMatcha, 1.0, 1);
  for (int64_t step = 0; step < 50; ++step) {
    EXPECT_EQ(topology.ActiveMatchings(step), (std::vector<int>{0, 1, 2, 3, 4}));
  }
  EXPECT_EQ(topology.ActiveDegrees(0), (std::vector<int>{3, 5, 2, 4, 1, 2, 3, 4}));
  absl::StatusOr<Neighborhood> hood = topology.NeighborhoodAt(0, 1);
  ASSERT_TRUE(hood.ok());
  // Node 1 meets 5 (M1), 7 (M2), 0 (M3), 2 (M4), 3 (M5): the exchange order.
  std::vector<int> order;
  for (const ActiveNeighbor& n : hood->neighbors) order.push_back(n.rank);
  EXPECT_EQ(order, (std::vector<int>{5, 7, 0, 2, 3}));
  EXPECT_NEAR(hood->neighbors[0].weight, 2.0 / 7, 1e-9);
  EXPECT_NEAR(hood->self_weight, 1 - 5 * 2.0 / 7, 1e-8);
  // Base combine with all coefficients 0 on y = [0..7] (DESIGN.md's third reference vector).
  Eigen::VectorXd y(8);
  y << 0, 1, 2, 3, 4, 5, 6, 7;
  Eigen::VectorXd expected(8);
  expected << 3.428571, 4.428571, 2, 4.142857, 2.857143, 4.142857, 5.142857, 1.857143;
  EXPECT_LT((topology.MixingMatrixAt(0) * y - expected).cwiseAbs().maxCoeff(), 1e-6);
}

TEST(TopologyTest, MatchaWorkersAgreeAndEdgesComeFromActiveMatchings) {
  const Topology topology = Make(Matcha8Graph(), Scheme::kMatcha, 0.5, 1);
  EXPECT_NEAR(topology.plan(0).alpha, 0.3964, 1e-3);
  std::set<std::vector<int>> distinct_sets;
  for (int64_t step = 0; step < 300; ++step) {
    ExpectConsistentStep(topology, step);
    distinct_sets.insert(topology.ActiveMatchings(step));
    // Only matchings with p_j > 0 appear (DESIGN.md's optimum switches M2 and M5 off).
    for (int j : topology.ActiveMatchings(step)) EXPECT_GT(topology.plan(0).probabilities[j], 0);
  }
  EXPECT_GT(distinct_sets.size(), 3u);  // the schedule does vary
  // A second, independently built Topology (another process) draws the same schedule.
  const Topology again = Make(Matcha8Graph(), Scheme::kMatcha, 0.5, 1);
  for (int64_t step = 0; step < 300; ++step) {
    EXPECT_EQ(again.ActiveMatchings(step), topology.ActiveMatchings(step));
  }
}

TEST(TopologyTest, Matcha8SecondCopyIsTheAuthorsGraphOne) {
  const Topology topology = Make(Matcha8Graph(), Scheme::kMatcha, 0.5, 2);
  ASSERT_EQ(topology.num_copies(), 2);
  const std::vector<int> pi = {3, 4, 7, 0, 1, 6, 5, 2};
  const NetworkGraph base = Matcha8Graph();
  for (const Edge& e : base.edges()) EXPECT_TRUE(topology.graph(1).HasEdge(pi[e.u], pi[e.v]));
  // Node v of graph 0 keeps its degree as node pi(v) of graph 1.
  for (int v = 0; v < 8; ++v) EXPECT_EQ(topology.graph(1).degree(pi[v]), base.degree(v));
  EXPECT_NEAR(topology.plan(1).lambda2, topology.plan(0).lambda2, 1e-6);
  for (int64_t step = 0; step < 100; ++step) {
    EXPECT_EQ(topology.CopyAt(step), step % 2);
    ExpectConsistentStep(topology, step);
  }
}

TEST(TopologyTest, RelabelledRingCoversNewPairs) {
  const NetworkGraph ring = *RingGraph(8);
  absl::StatusOr<std::vector<NetworkGraph>> copies = RelabelledCopies(ring, 2, 1);
  ASSERT_TRUE(copies.ok()) << copies.status();
  ASSERT_EQ(copies->size(), 2u);
  std::vector<int> degrees = (*copies)[1].degrees();
  std::sort(degrees.begin(), degrees.end());
  EXPECT_EQ(degrees, ring.degrees());
  EXPECT_GT(CoveredPairs(*copies), ring.num_edges());
  // K8 holds edge-disjoint Hamiltonian cycles, and the search finds one.
  EXPECT_EQ(CoveredPairs(*copies), 16);
  // Deterministic in the seed.
  EXPECT_EQ(RelabelledCopies(ring, 2, 1)->at(1).edges(), (*copies)[1].edges());
}

TEST(TopologyTest, DynamicStaticTopologyAlternatesCopies) {
  const Topology topology = Make(*TorusGraph(16), Scheme::kStatic, 1.0, 3);
  std::vector<NetworkGraph> graphs;
  for (int k = 0; k < 3; ++k) graphs.push_back(topology.graph(k));
  EXPECT_GT(CoveredPairs(graphs), 2 * 32);  // each copy adds new pairs
  for (int64_t step = 0; step < 9; ++step) {
    EXPECT_TRUE(topology.MixingMatrixAt(step).isApprox(
        MixingMatrix(topology.graph(step % 3), WeightRule::kBestConstant)));
    ExpectConsistentStep(topology, step);
  }
}

TEST(TopologyTest, FullBudgetMatchaEqualsStatic) {
  const NetworkGraph graph = *ErdosRenyiGraph(10, 0.4, 1);
  const Topology matcha = Make(graph, Scheme::kMatcha, 1.0, 1);
  const Topology stat = Make(graph, Scheme::kStatic, 1.0, 1);
  for (int64_t step = 0; step < 10; ++step) {
    // Golden section finds alpha to 1e-10; the best constant is exact.
    EXPECT_TRUE(matcha.MixingMatrixAt(step).isApprox(stat.MixingMatrixAt(step), 1e-8));
  }
}

TEST(TopologyTest, ExpectedGraphOverAPeriodIsConnectedEvenOnATinyBudget) {
  const Topology topology = Make(Matcha8Graph(), Scheme::kMatcha, 0.05, 2);
  std::vector<Edge> expected;
  for (int k = 0; k < 2; ++k) {
    for (size_t j = 0; j < topology.plan(k).matchings.size(); ++j) {
      if (topology.plan(k).probabilities[j] == 0.0) continue;
      for (const Edge& e : topology.plan(k).matchings[j]) expected.push_back(e);
    }
  }
  EXPECT_TRUE(CheckConnected(8, expected).ok());
  EXPECT_GT(topology.plan(0).lambda2, 0.0);
}

TEST(TopologyTest, ClearErrors) {
  TopologyOptions options;
  options.scheme = Scheme::kMatcha;
  options.weights = WeightRule::kMetropolisHastings;
  absl::StatusOr<Topology> topology = Topology::Create(Matcha8Graph(), options);
  ASSERT_FALSE(topology.ok());
  EXPECT_NE(std::string(topology.status().message()).find("static scheme"), std::string::npos);
  options = {};
  options.copies = 0;
  EXPECT_FALSE(Topology::Create(Matcha8Graph(), options).ok());
  options = {};
  options.scheme = Scheme::kMatcha;
  options.budget = 0;
  EXPECT_FALSE(Topology::Create(Matcha8Graph(), options).ok());
  const Topology good = Make(Matcha8Graph(), Scheme::kStatic, 1.0, 1);
  EXPECT_FALSE(good.NeighborhoodAt(0, 8).ok());
  EXPECT_FALSE(good.NeighborhoodAt(-1, 0).ok());
}

TEST(TopologyTest, DescribeIsOneInformativeLine) {
  const std::string matcha = Make(Matcha8Graph(), Scheme::kMatcha, 0.5, 2).Describe();
  EXPECT_EQ(matcha.find('\n'), std::string::npos);
  EXPECT_NE(matcha.find("matcha8: MATCHA c_b=0.5 over 5 matchings"), std::string::npos) << matcha;
  EXPECT_NE(matcha.find("α=0.396"), std::string::npos) << matcha;
  EXPECT_NE(matcha.find("2 relabelled graph copies"), std::string::npos) << matcha;
  const std::string ring = Make(*RingGraph(8), Scheme::kStatic, 1.0, 1).Describe();
  EXPECT_NE(ring.find("ring(8): best-constant α="), std::string::npos) << ring;
  EXPECT_NE(ring.find("static: all 2 matchings every step"), std::string::npos) << ring;
}

TEST(TopologyTest, AlternatingScheduleActivatesOneMatchingPerStepAsTheAuthors) {
  TopologyOptions options;
  options.schedule = StaticSchedule::kAlternate;
  options.copies = 2;
  const Topology topology = testing::MustCreateTopology(Matcha8Graph(), options);
  // Each copy counts its own steps: copy 0 runs steps 0, 2, 4, 6 with matchings 1, 0, 1, 0.
  const std::vector<int> expected = {1, 1, 0, 0, 1, 1, 0, 0};
  for (int64_t step = 0; step < 8; ++step) {
    EXPECT_EQ(topology.CopyAt(step), step % 2);
    EXPECT_EQ(topology.ActiveMatchings(step), std::vector<int>{expected[step]}) << step;
    ExpectConsistentStep(topology, step);
  }
  // matcha8's M2 pairs 1-7 and 3-6: workers 0, 2, 4 and 5 sit the step out.
  EXPECT_EQ(topology.ActiveDegrees(0), (std::vector<int>{0, 1, 0, 1, 0, 0, 1, 1}));
  // The weight is the copy's best constant over all its matchings (the authors' alpha), 2/7.
  EXPECT_NEAR(topology.MixingMatrixAt(0)(1, 7), 2.0 / 7.0, 1e-12);
  EXPECT_NE(topology.Describe().find("alternating: one matching per step"), std::string::npos);

  // One copy: 1, 0, 1, 0 on a ring's two matchings.
  options.copies = 1;
  const Topology ring = testing::MustCreateTopology(*RingGraph(8), options);
  for (int64_t step = 0; step < 4; ++step) {
    EXPECT_EQ(ring.ActiveMatchings(step), std::vector<int>{step % 2 == 0 ? 1 : 0});
  }
}

TEST(TopologyTest, AlternatingOnOneMatcha8CopyIsRefusedAsDisconnected) {
  TopologyOptions options;
  options.schedule = StaticSchedule::kAlternate;
  absl::StatusOr<Topology> topology = Topology::Create(Matcha8Graph(), options);
  ASSERT_FALSE(topology.ok());
  const std::string message(topology.status().message());
  EXPECT_NE(message.find("activates only matchings 0 and 1"), std::string::npos) << message;
  EXPECT_NE(message.find("{0, 4}"), std::string::npos) << message;
  options.scheme = Scheme::kMatcha;
  options.copies = 2;
  EXPECT_FALSE(Topology::Create(Matcha8Graph(), options).ok());
}

}  // namespace
}  // namespace ald
