#include "comm/topology/matcha_schedule.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "comm/topology/mixing_weights.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

// The reference values are quoted to 4 digits (DESIGN.md), so 1e-3 is their precision.
constexpr double kReference = 1e-3;

void ExpectProperColouring(const NetworkGraph& graph, const std::vector<Matching>& matchings) {
  std::multiset<Edge> covered;
  for (const Matching& matching : matchings) {
    std::set<int> touched;
    for (const Edge& e : matching) {
      EXPECT_TRUE(touched.insert(e.u).second) << graph.name() << ": node " << e.u << " twice";
      EXPECT_TRUE(touched.insert(e.v).second) << graph.name() << ": node " << e.v << " twice";
      covered.insert(e);
    }
  }
  EXPECT_EQ(std::vector<Edge>(covered.begin(), covered.end()), graph.edges()) << graph.name();
}

TEST(DecomposeTest, Matcha8UsesThePaperMatchingsInOrder) {
  absl::StatusOr<std::vector<Matching>> matchings = DecomposeIntoMatchings(Matcha8Graph());
  ASSERT_TRUE(matchings.ok()) << matchings.status();
  ASSERT_EQ(matchings->size(), 5u);
  EXPECT_EQ((*matchings)[0], (Matching{{1, 5}, {6, 7}, {0, 4}, {2, 3}}));
  EXPECT_EQ((*matchings)[1], (Matching{{1, 7}, {3, 6}}));
  EXPECT_EQ((*matchings)[2], (Matching{{0, 1}, {3, 7}, {5, 6}}));
  EXPECT_EQ((*matchings)[3], (Matching{{1, 2}, {0, 7}}));
  EXPECT_EQ((*matchings)[4], (Matching{{1, 3}}));
}

TEST(DecomposeTest, BipartiteGraphsNeedOnlyMaxDegreeColours) {
  for (int n : {4, 8, 16}) {
    const NetworkGraph ring = *RingGraph(n);
    absl::StatusOr<std::vector<Matching>> matchings = DecomposeIntoMatchings(ring);
    ASSERT_TRUE(matchings.ok()) << matchings.status();
    EXPECT_EQ(matchings->size(), 2u) << ring.name();
    ExpectProperColouring(ring, *matchings);
  }
  const NetworkGraph torus = *TorusGraph(16);  // 4x4, bipartite, degree 4
  absl::StatusOr<std::vector<Matching>> matchings = DecomposeIntoMatchings(torus);
  ASSERT_TRUE(matchings.ok()) << matchings.status();
  EXPECT_EQ(matchings->size(), 4u);
  ExpectProperColouring(torus, *matchings);
}

TEST(DecomposeTest, VizingBoundOnManyRandomGraphs) {
  // Dense, sparse, regular and odd-cycle-rich graphs: at most max degree + 1 matchings.
  int checked = 0;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    for (double p : {0.15, 0.4, 0.8}) {
      const int n = 10 + static_cast<int>(seed % 20);
      absl::StatusOr<NetworkGraph> graph = ErdosRenyiGraph(n, p, seed);
      if (!graph.ok()) continue;  // too sparse to connect: not what this test is about
      absl::StatusOr<std::vector<Matching>> matchings = DecomposeIntoMatchings(*graph);
      ASSERT_TRUE(matchings.ok()) << matchings.status();
      EXPECT_LE(static_cast<int>(matchings->size()), graph->max_degree() + 1) << graph->name();
      ExpectProperColouring(*graph, *matchings);
      ++checked;
    }
    absl::StatusOr<NetworkGraph> regular = RandomRegularGraph(15 + 2 * (seed % 5), 4 + seed % 5 * 2, seed);
    ASSERT_TRUE(regular.ok()) << regular.status();
    absl::StatusOr<std::vector<Matching>> matchings = DecomposeIntoMatchings(*regular);
    ASSERT_TRUE(matchings.ok()) << matchings.status();
    EXPECT_LE(static_cast<int>(matchings->size()), regular->max_degree() + 1);
    ExpectProperColouring(*regular, *matchings);
    ++checked;
  }
  EXPECT_GT(checked, 200);
  // An odd complete graph needs all max degree + 1 colours (each colour covers (n-1)/2 edges).
  const NetworkGraph k7 = *CompleteGraph(7);
  absl::StatusOr<std::vector<Matching>> matchings = DecomposeIntoMatchings(k7);
  ASSERT_TRUE(matchings.ok());
  EXPECT_EQ(matchings->size(), 7u);
  ExpectProperColouring(k7, *matchings);
}

double Sum(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0);
}

TEST(PlanMatchaTest, Matcha8HalfBudgetMatchesThePaper) {
  absl::StatusOr<MatchaPlan> plan = PlanMatcha(Matcha8Graph(), 0.5);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_NEAR(plan->lambda2, 0.5612, kReference);
  EXPECT_NEAR(plan->alpha, 0.3964, kReference);
  EXPECT_NEAR(plan->rho, 0.6440, kReference);
  EXPECT_LE(Sum(plan->probabilities), 0.5 * 5 + 1e-9);
  for (double p : plan->probabilities) {
    EXPECT_GE(p, 0.0);
    EXPECT_LE(p, 1.0);
  }
  // The published optimum is feasible and no better than ours (we maximise the same concave λ₂).
  const std::vector<Eigen::MatrixXd> laplacians = MatchingLaplacians(8, plan->matchings);
  Eigen::MatrixXd published = Eigen::MatrixXd::Zero(8, 8);
  const std::vector<double> paper_p = {0.984, 0, 0.758, 0.758, 0};
  for (int j = 0; j < 5; ++j) published += paper_p[j] * laplacians[j];
  EXPECT_LE(AlgebraicConnectivity(published), plan->lambda2 + 1e-3);
}

TEST(PlanMatchaTest, Matcha8FullBudgetIsDpsgd) {
  absl::StatusOr<MatchaPlan> plan = PlanMatcha(Matcha8Graph(), 1.0);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->probabilities, std::vector<double>(5, 1.0));
  EXPECT_NEAR(plan->alpha, 2.0 / 7.0, 1e-6);  // golden section runs to 1e-10
  EXPECT_NEAR(plan->rho, 0.6538, kReference);
  EXPECT_NEAR(plan->alpha, BestConstantAlpha(Laplacian(Matcha8Graph())), 1e-6);
}

TEST(PlanMatchaTest, RingOfEightHalfBudget) {
  absl::StatusOr<MatchaPlan> plan = PlanMatcha(*RingGraph(8), 0.5);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->probabilities.size(), 2u);
  EXPECT_NEAR(plan->probabilities[0], 0.5, kReference);
  EXPECT_NEAR(plan->probabilities[1], 0.5, kReference);
  EXPECT_NEAR(plan->alpha, 0.6074, kReference);
  EXPECT_NEAR(plan->rho, 0.7839, kReference);
}

TEST(PlanMatchaTest, RejectsBudgetOutsideUnitInterval) {
  for (double budget : {0.0, -0.5, 1.5}) {
    absl::StatusOr<MatchaPlan> plan = PlanMatcha(Matcha8Graph(), budget);
    ASSERT_FALSE(plan.ok());
    EXPECT_NE(plan.status().message().find("budget"), std::string::npos) << plan.status();
  }
}

TEST(PlanMatchaTest, BudgetBindsAndMoreBudgetNeverHurts) {
  const NetworkGraph graph = *ErdosRenyiGraph(12, 0.4, 7);
  double previous = 0.0;
  for (double budget : {0.2, 0.4, 0.6, 0.8}) {
    absl::StatusOr<MatchaPlan> plan = PlanMatcha(graph, budget);
    ASSERT_TRUE(plan.ok()) << plan.status();
    const double m = static_cast<double>(plan->matchings.size());
    // λ₂ grows with p, so the optimum spends the whole budget (bisection tolerance aside).
    EXPECT_NEAR(Sum(plan->probabilities), budget * m, 1e-6);
    // Feasible sets grow with the budget, so the optimum cannot fall (up to solver accuracy).
    EXPECT_GE(plan->lambda2, previous - 1e-3);
    EXPECT_LT(plan->rho, 1.0);
    previous = plan->lambda2;
  }
}

TEST(ExpectedContractionTest, AlphaMinimisesRho) {
  absl::StatusOr<MatchaPlan> plan = PlanMatcha(Matcha8Graph(), 0.5);
  ASSERT_TRUE(plan.ok());
  const std::vector<Eigen::MatrixXd> laplacians = MatchingLaplacians(8, plan->matchings);
  for (double delta : {-0.05, -0.01, 0.01, 0.05}) {
    EXPECT_GE(ExpectedContraction(laplacians, plan->probabilities, plan->alpha + delta),
              plan->rho - 1e-12);
  }
  EXPECT_NEAR(ExpectedContraction(laplacians, plan->probabilities, 0.0), 1.0, 1e-12);
}

TEST(SampleTest, EveryWorkerDrawsTheSameSet) {
  // The set depends only on (probabilities, seed, stream, step): what each worker passes is
  // identical, and repeated calls (as on different ranks) must agree.
  const std::vector<double> p = {0.984, 0.0, 0.758, 0.758, 0.0};
  for (int64_t step = 0; step < 200; ++step) {
    const std::vector<int> first = SampleActiveMatchings(p, 42, 0, step);
    for (int worker = 1; worker < 8; ++worker) {
      EXPECT_EQ(SampleActiveMatchings(p, 42, 0, step), first);
    }
  }
  // And different seeds give different schedules.
  int differing = 0;
  for (int64_t step = 0; step < 200; ++step) {
    differing += SampleActiveMatchings(p, 42, 0, step) != SampleActiveMatchings(p, 43, 0, step);
  }
  EXPECT_GT(differing, 20);
}

TEST(SampleTest, FrequenciesMatchProbabilities) {
  absl::StatusOr<MatchaPlan> plan = PlanMatcha(Matcha8Graph(), 0.5);
  ASSERT_TRUE(plan.ok());
  constexpr int kSteps = 20000;
  const size_t m = plan->matchings.size();
  std::vector<int> counts(m, 0);
  double active_total = 0.0;
  for (int64_t step = 0; step < kSteps; ++step) {
    const std::vector<int> active = SampleActiveMatchings(plan->probabilities, 1, 0, step);
    EXPECT_TRUE(std::is_sorted(active.begin(), active.end()));
    for (int j : active) ++counts[j];
    active_total += static_cast<double>(active.size());
  }
  for (size_t j = 0; j < m; ++j) {
    const double p = plan->probabilities[j];
    // Four binomial standard deviations: a false alarm about once in 16,000 runs per matching.
    const double sigma = std::sqrt(kSteps * p * (1 - p));
    EXPECT_NEAR(counts[j], kSteps * p, 4 * sigma + 1e-9) << "matching " << j;
  }
  // The budget binds: on average c_b * m matchings are active (sum of the per-matching sigmas
  // squared bounds the variance of the total's mean).
  double variance = 0.0;
  for (double p : plan->probabilities) variance += p * (1 - p);
  EXPECT_NEAR(active_total / kSteps, 0.5 * m, 4 * std::sqrt(variance / kSteps) + 1e-6);
}

TEST(SampleTest, FullBudgetActivatesEverything) {
  const std::vector<double> p(5, 1.0);
  for (int64_t step = 0; step < 1000; ++step) {
    EXPECT_EQ(SampleActiveMatchings(p, 9, 3, step), (std::vector<int>{0, 1, 2, 3, 4}));
  }
}

TEST(SampleTest, StreamsAreIndependentSchedules) {
  const std::vector<double> p(4, 0.5);
  int differing = 0;
  for (int64_t step = 0; step < 200; ++step) {
    differing += SampleActiveMatchings(p, 5, 0, step) != SampleActiveMatchings(p, 5, 1, step);
  }
  EXPECT_GT(differing, 100);  // equal with probability 1/16 per step when independent
}

}  // namespace
}  // namespace ald
