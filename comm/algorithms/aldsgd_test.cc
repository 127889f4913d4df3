#include "comm/algorithms/aldsgd.h"
#include "comm/topology/topology_testing.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <span>
#include <utility>

#include "Eigen/Dense"
#include "comm/algorithms/registry.h"
#include "comm/algorithms/algorithm_testing.h"
#include "comm/algorithms/decentralized_testing.h"
#include "comm/topology/network_graph.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::ald::testing::GossipCase;
using ::ald::testing::GossipRun;
using ::ald::testing::RunGossip;

// DESIGN.md's reference case: matcha8, y = [0..7], these losses, c1 = 0.3, c2 = 0.1,
// p1 = p2 = 0.2, code form.
const std::vector<float> kLosses = {0.9f, 0.5f, 0.7f, 0.3f, 0.8f, 0.6f, 0.4f, 0.2f};
const std::vector<double> kAllActive = {4.154286, 4.514286, 2.12,     4.411429,
                                        2.548571, 4.031429, 6.331429, 3.588571};
const std::vector<double> kOnlyM2 = {0, 3.897143, 2, 3.308571, 4, 5, 4.551429, 6.382857};
const std::vector<double> kNoCoefficients = {3.428571, 4.428571, 2,        4.142857,
                                             2.857143, 4.142857, 5.142857, 1.857143};

Topology MakeTopology(const NetworkGraph& graph, Scheme scheme, double budget, int copies = 1) {
  TopologyOptions options;
  options.scheme = scheme;
  options.budget = budget;
  options.copies = copies;
  options.seed = 3;
  return testing::MustCreateTopology(graph, options);
}

AlgorithmOptions Coefficients(double c1, double c2, double p1, double p2,
                              AldsgdForm form = AldsgdForm::kCode) {
  AlgorithmOptions options;
  options.aldsgd_form = form;
  options.c1 = c1, options.c2 = c2, options.p1 = p1, options.p2 = p2;
  options.sync_init = false;
  return options;
}

// Worker i starts at x = i in all three elements (buckets of 2 and 1), with zero gradients,
// so y = x; one step.
GossipCase ReferenceCase(const Topology& topology, const AlgorithmOptions& options) {
  GossipCase test_case;
  test_case.topology = &topology;
  test_case.options = options;
  test_case.bucket_sizes = {2, 1};
  test_case.losses = kLosses;
  test_case.local.lr = 0.5f;
  for (int rank = 0; rank < 8; ++rank) {
    test_case.initial.push_back(std::vector<float>(3, static_cast<float>(rank)));
  }
  return test_case;
}

void ExpectEveryElementNear(const std::vector<std::vector<float>>& params,
                            const std::vector<double>& expected) {
  for (int rank = 0; rank < 8; ++rank) {
    for (float value : params[rank]) EXPECT_NEAR(value, expected[rank], 1e-6) << "rank " << rank;
  }
}

TEST(AldsgdTest, ReferenceCaseThroughTheAlgorithm) {
  const Topology topology = MakeTopology(Matcha8Graph(), Scheme::kStatic, 1.0);
  ASSERT_NEAR(topology.plan(0).alpha, 2.0 / 7.0, 1e-9);
  absl::StatusOr<GossipRun> boosted =
      RunGossip(MakeAldsgd, ReferenceCase(topology, Coefficients(0.3, 0.1, 0.2, 0.2)));
  ASSERT_TRUE(boosted.ok()) << boosted.status();
  ExpectEveryElementNear(boosted->final(), kAllActive);
  absl::StatusOr<GossipRun> plain =
      RunGossip(MakeAldsgd, ReferenceCase(topology, Coefficients(0, 0, 0, 0)));
  ASSERT_TRUE(plain.ok()) << plain.status();
  ExpectEveryElementNear(plain->final(), kNoCoefficients);
}

// The code form's x_i for y (default [0..7]) with the matchings `active` of matcha8 at α = 2/7,
// built from the same pieces the algorithm uses (the topology cannot force a chosen set active).
// With a bf16 wire every neighbour's y (the leaders' too) is rounded as its sender's message of
// step 0 rounds element `element` (run seed `seed`), the own y is not.
std::vector<double> CombineByHand(const std::vector<int>& active, double c1, double c2, double p1,
                                  double p2,
                                  const std::vector<float>& y = {0, 1, 2, 3, 4, 5, 6, 7},
                                  WireFormat wire = WireFormat::kFp32, size_t element = 0,
                                  uint64_t seed = 0) {
  const std::vector<Matching> matchings = Matcha8Graph().preset_matchings();
  const double alpha = 2.0 / 7.0;
  std::vector<double> result(8);
  for (int i = 0; i < 8; ++i) {
    std::vector<int> members = {i};
    for (int j : active) {
      for (const Edge& e : matchings[j]) {
        if (e.u == i) members.push_back(e.v);
        if (e.v == i) members.push_back(e.u);
      }
    }
    const int degree = static_cast<int>(members.size()) - 1;
    if (degree == 0) {
      result[i] = y[i];
      continue;
    }
    std::vector<float> losses;
    std::vector<int> degrees;
    for (int m : members) {
      losses.push_back(kLosses[m]);
      int active_degree = 0;
      for (int j : active) {
        for (const Edge& e : matchings[j]) active_degree += e.u == m || e.v == m;
      }
      degrees.push_back(active_degree);
    }
    std::vector<double> weights(members.size(), alpha);
    weights[0] = 1.0 - degree * alpha;
    FoldLeaderWeights(ChooseLeaders(losses, degrees), c1, c2, p1, p2, weights);
    for (size_t m = 0; m < members.size(); ++m) {
      const float sent = y[members[m]];
      const bool rounded = m > 0 && IsBf16(wire);
      const WireRounding rounding{WireRoundingKey(seed, 0, members[m], WireStream::kModel),
                                  element};
      result[i] += weights[m] * (rounded ? RoundForWire(wire, sent, rounding) : sent);
    }
  }
  return result;
}

TEST(AldsgdTest, ReferenceCaseByHand) {
  const struct {
    std::vector<int> active;
    double coefficient_scale;
    const std::vector<double>* expected;
  } cases[] = {{{0, 1, 2, 3, 4}, 1, &kAllActive},
               {{1}, 1, &kOnlyM2},
               {{0, 1, 2, 3, 4}, 0, &kNoCoefficients}};
  for (const auto& c : cases) {
    const double s = c.coefficient_scale;
    const std::vector<double> x = CombineByHand(c.active, 0.3 * s, 0.1 * s, 0.2 * s, 0.2 * s);
    for (int i = 0; i < 8; ++i) EXPECT_NEAR(x[i], (*c.expected)[i], 1e-6) << "worker " << i;
  }
}

// --wire=bf16 through the algorithm: the reference case with y_i = i + 1/3 (not bf16 numbers),
// where the base combine, the boost and the pull all take the neighbours' rounded models and
// the own exact one (comm/wire_format.h), each element as its sender's key draws it.
TEST(AldsgdTest, Bf16WireRoundsEveryNeighboursModelAndNotTheOwn) {
  const Topology topology = MakeTopology(Matcha8Graph(), Scheme::kStatic, 1.0);
  std::vector<float> y;
  for (int rank = 0; rank < 8; ++rank) y.push_back(static_cast<float>(rank) + 1.0f / 3.0f);
  const std::vector<int> all = {0, 1, 2, 3, 4};
  const std::vector<double> fp32 = CombineByHand(all, 0.3, 0.1, 0.2, 0.2, y);
  for (const WireFormat wire : {WireFormat::kBf16, WireFormat::kBf16Nearest}) {
    GossipCase test_case = ReferenceCase(topology, Coefficients(0.3, 0.1, 0.2, 0.2));
    for (int rank = 0; rank < 8; ++rank) test_case.initial[rank].assign(3, y[rank]);
    test_case.options.wire = wire;
    test_case.options.seed = 5;
    absl::StatusOr<GossipRun> run = RunGossip(MakeAldsgd, test_case);
    ASSERT_TRUE(run.ok()) << run.status();
    for (size_t element = 0; element < 3; ++element) {
      const std::vector<double> expected =
          CombineByHand(all, 0.3, 0.1, 0.2, 0.2, y, wire, element, test_case.options.seed);
      for (int rank = 0; rank < 8; ++rank) {
        EXPECT_NEAR(run->final()[rank][element], expected[rank], 1e-6)
            << WireFormatName(wire) << " rank " << rank << " element " << element;
        EXPECT_GT(std::abs(expected[rank] - fp32[rank]), 1e-5) << "rank " << rank;
      }
    }
    // The loss and degree still travel as two fp32 values per neighbour; the model at 2 bytes.
    const int64_t degree0 = 3, floats = 3;
    EXPECT_EQ(run->stats[0].bytes_sent, degree0 * (floats * 2 + 2 * 4));
  }
}

TEST(AldsgdTest, LeaderTiesGoToSelfThenMatchingOrder) {
  // Positions: self, then neighbours in ascending matching order.
  AldsgdLeaders leaders =
      ChooseLeaders(std::vector<float>{0.5f, 0.2f, 0.2f, 0.9f}, std::vector<int>{1, 3, 2, 3});
  EXPECT_EQ(leaders.loss_leader, 1);
  EXPECT_EQ(leaders.max_degree, 1);
  leaders = ChooseLeaders(std::vector<float>{0.2f, 0.3f, 0.2f}, std::vector<int>{2, 2, 1});
  EXPECT_EQ(leaders.loss_leader, 0);
  EXPECT_EQ(leaders.max_degree, 0);
  // In the reference case worker 6 meets 7 (M1), 3 (M2), 5 (M3); 7 and 3 both have degree 4,
  // and 7 comes first in matching order although 3 is the lower rank: with tau = 3 worker 6
  // would get 5.291429 instead of 6.331429 (checked through the algorithm above).
  leaders = ChooseLeaders(std::vector<float>{0.4f, 0.2f, 0.3f, 0.6f}, std::vector<int>{3, 4, 4, 2});
  EXPECT_EQ(leaders.loss_leader, 1);
  EXPECT_EQ(leaders.max_degree, 1);
}

TEST(AldsgdTest, AllTiedFollowsItself) {
  // ring(6): every loss equal, every degree 2, so N = tau = self for everyone:
  // x_i = 0.36·z0_i + 0.64·y_i with z0 = W·y.
  const Topology topology = MakeTopology(*RingGraph(6), Scheme::kStatic, 1.0);
  GossipCase test_case;
  test_case.topology = &topology;
  test_case.options = Coefficients(0.3, 0.1, 0.2, 0.2);
  test_case.bucket_sizes = {1, 3};
  test_case.losses.assign(6, 0.5f);
  Eigen::MatrixXd y(6, 4);
  for (int rank = 0; rank < 6; ++rank) {
    test_case.initial.push_back(testing::RandomVector(4, 7 + rank));
    for (int k = 0; k < 4; ++k) y(rank, k) = test_case.initial[rank][k];
  }
  absl::StatusOr<GossipRun> run = RunGossip(MakeAldsgd, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  const Eigen::MatrixXd expected = 0.36 * topology.MixingMatrixAt(0) * y + 0.64 * y;
  for (int rank = 0; rank < 6; ++rank) {
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(run->final()[rank][k], expected(rank, k), 1e-6);
  }
}

// Six steps of a quadratic on matcha8, buckets of different sizes, momentum and weight decay:
// the case the bitwise comparisons below run twice.
GossipCase QuadraticCase(const Topology& topology, const AlgorithmOptions& options,
                         uint64_t seed) {
  GossipCase test_case;
  test_case.topology = &topology;
  test_case.options = options;
  test_case.bucket_sizes = {3, 1, 2};
  test_case.losses = kLosses;
  test_case.local = {.lr = 0.2f, .momentum = 0.5f, .weight_decay = 1e-3f};
  test_case.steps = 6;
  test_case.gradient = testing::QuadraticGradient;
  for (int rank = 0; rank < 8; ++rank) {
    test_case.initial.push_back(testing::RandomVector(6, seed + rank));
  }
  return test_case;
}

void ExpectSameBits(const absl::StatusOr<GossipRun>& a, const absl::StatusOr<GossipRun>& b) {
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  for (int rank = 0; rank < 8; ++rank) {
    EXPECT_EQ(0, std::memcmp(a->final()[rank].data(), b->final()[rank].data(), 6 * sizeof(float)))
        << "rank " << rank;
  }
}

// AL-DSGD with every coefficient 0 and one graph copy against its base, bit for bit.
void ExpectEqualsBase(Scheme scheme, double budget, AldsgdForm form) {
  const Topology topology = MakeTopology(Matcha8Graph(), scheme, budget);
  const GossipCase test_case = QuadraticCase(topology, Coefficients(0, 0, 0, 0, form), 50);
  ExpectSameBits(RunGossip(MakeAldsgd, test_case),
                 RunGossip(scheme == Scheme::kStatic ? MakeDpsgd : MakeMatchaSgd, test_case));
}

TEST(AldsgdTest, NoCoefficientsEqualsDpsgdBitwise) {
  ExpectEqualsBase(Scheme::kStatic, 1.0, AldsgdForm::kCode);
  ExpectEqualsBase(Scheme::kStatic, 1.0, AldsgdForm::kPaper);
}

TEST(AldsgdTest, NoCoefficientsEqualsItsBaseBitwiseWhenAdaptingWithCombine) {
  for (const Scheme scheme : {Scheme::kStatic, Scheme::kMatcha}) {
    const Topology topology = MakeTopology(Matcha8Graph(), scheme, 0.5);
    GossipCase test_case = QuadraticCase(topology, Coefficients(0, 0, 0, 0, AldsgdForm::kCode), 55);
    test_case.options.combine = CombineOrder::kAdaptWithCombine;
    ExpectSameBits(RunGossip(MakeAldsgd, test_case),
                   RunGossip(scheme == Scheme::kStatic ? MakeDpsgd : MakeMatchaSgd, test_case));
  }
}

// The code form's leader weights apply to the pre-step models alike: with zero gradients and no
// step the two orders are the same rule, bit for bit.
TEST(AldsgdTest, AdaptWithCombineWithoutAStepIsTheCodeFormsCombine) {
  const Topology topology = MakeTopology(Matcha8Graph(), Scheme::kStatic, 1.0);
  GossipCase test_case = QuadraticCase(topology, Coefficients(0.3, 0.1, 0.2, 0.2), 57);
  test_case.gradient = nullptr;
  test_case.local = {.lr = 0.0f};
  GossipCase awc = test_case;
  awc.options.combine = CombineOrder::kAdaptWithCombine;
  ExpectSameBits(RunGossip(MakeAldsgd, test_case), RunGossip(MakeAldsgd, awc));
}

TEST(AldsgdTest, ThePaperFormCannotAdaptWithCombine) {
  const Topology topology = MakeTopology(Matcha8Graph(), Scheme::kStatic, 1.0);
  GossipCase test_case = QuadraticCase(topology, Coefficients(0.3, 0.1, 0.2, 0.2, AldsgdForm::kPaper), 59);
  test_case.options.combine = CombineOrder::kAdaptWithCombine;
  const absl::StatusOr<GossipRun> run = RunGossip(MakeAldsgd, test_case);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("paper form"), std::string::npos) << run.status();
}

TEST(AldsgdTest, NoCoefficientsEqualsMatchaBitwise) {
  ExpectEqualsBase(Scheme::kMatcha, 0.5, AldsgdForm::kCode);
  ExpectEqualsBase(Scheme::kMatcha, 0.5, AldsgdForm::kPaper);
}

// A pipelined step leaves each bucket's combine to the next forward (where the rule allows);
// the parameters must come out bit for bit as when every combine follows EndStep at once.
void ExpectDeferredCombineEqualsImmediate(
    const testing::MakeAlgorithm& make, Scheme scheme, AldsgdForm form,
    CombineOrder combine = CombineOrder::kAdaptThenCombine) {
  const Topology topology = MakeTopology(Matcha8Graph(), scheme, 0.5);
  GossipCase immediate = QuadraticCase(topology, Coefficients(0.3, 0.1, 0.2, 0.2, form), 70);
  immediate.options.combine = combine;
  GossipCase deferred = immediate;
  deferred.pipelined = true;
  deferred.flush_every_step = false;
  const absl::StatusOr<GossipRun> a = RunGossip(make, immediate);
  ExpectSameBits(a, RunGossip(make, deferred));
  for (int rank = 0; rank < 8 && a.ok(); ++rank) {
    EXPECT_NE(a->final()[rank], immediate.initial[rank]) << "rank " << rank << " never moved";
  }
}

TEST(AldsgdTest, DeferredCombineEqualsImmediateBitwise) {
  ExpectDeferredCombineEqualsImmediate(MakeAldsgd, Scheme::kMatcha, AldsgdForm::kCode);
  ExpectDeferredCombineEqualsImmediate(MakeAldsgd, Scheme::kStatic, AldsgdForm::kPaper);
  ExpectDeferredCombineEqualsImmediate(MakeDpsgd, Scheme::kStatic, AldsgdForm::kCode);
  ExpectDeferredCombineEqualsImmediate(MakeMatchaSgd, Scheme::kMatcha, AldsgdForm::kCode);
}

// Adapt with combine, pipelined or sequential: the same sums either way.
TEST(AldsgdTest, PipelinedAdaptWithCombineEqualsSequentialBitwise) {
  for (const Scheme scheme : {Scheme::kStatic, Scheme::kMatcha}) {
    ExpectDeferredCombineEqualsImmediate(MakeAldsgd, scheme, AldsgdForm::kCode,
                                         CombineOrder::kAdaptWithCombine);
  }
  ExpectDeferredCombineEqualsImmediate(MakeDpsgd, Scheme::kStatic, AldsgdForm::kCode,
                                       CombineOrder::kAdaptWithCombine);
}

TEST(AldsgdTest, PaperFormPullsInsideTheLocalStep) {
  // Reference case, γ = 0.5, zero gradients. Paper form, worker 0: C_0 = {0, 4, 1, 7},
  // N = 7 (loss 0.2), tau = 1 (degree 5): y_0 = 0 − 0.5·0.2·(0 − 7) − 0.5·0.2·(0 − 1) = 0.8;
  // likewise y_4 = 3.6 (N = self, tau = 0), y_1 = 1.6 (N = 7, tau = self), y_7 = 6.4
  // (N = self, tau = 1). Then x_0 = 0.6·((1/7)·0.8 + (2/7)·(3.6 + 1.6 + 6.4)) + 0.3·6.4
  // + 0.1·1.6 = 0.6·24/7 + 2.08 = 4.137143. Worker 4: x_4 = 0.6·((5/7)·3.6 + (2/7)·0.8)
  // + 0.3·3.6 + 0.1·0.8 = 2.84. The code form gives 4.154286 and 2.548571.
  const Topology topology = MakeTopology(Matcha8Graph(), Scheme::kStatic, 1.0);
  absl::StatusOr<GossipRun> paper = RunGossip(
      MakeAldsgd, ReferenceCase(topology, Coefficients(0.3, 0.1, 0.2, 0.2, AldsgdForm::kPaper)));
  absl::StatusOr<GossipRun> code = RunGossip(
      MakeAldsgd, ReferenceCase(topology, Coefficients(0.3, 0.1, 0.2, 0.2, AldsgdForm::kCode)));
  ASSERT_TRUE(paper.ok()) << paper.status();
  ASSERT_TRUE(code.ok()) << code.status();
  for (float value : paper->final()[0]) EXPECT_NEAR(value, 4.137143, 1e-6);
  for (float value : paper->final()[4]) EXPECT_NEAR(value, 2.84, 1e-6);
  for (float value : code->final()[0]) EXPECT_NEAR(value, 4.154286, 1e-6);
  for (float value : code->final()[4]) EXPECT_NEAR(value, 2.548571, 1e-6);
  // The paper form sends the pre-step model too: two model messages per neighbour and bucket.
  const int64_t degree0 = 3, buckets = 2;
  EXPECT_EQ(paper->stats[0].messages_sent, degree0 * (2 * buckets + 1));
  EXPECT_EQ(code->stats[0].messages_sent, degree0 * (buckets + 1));
}

// K = 2 relabelled copies, for AL-DSGD and for its baseline alike (--graphs applies to both, so
// a comparison can rotate graphs for every method): step 1 mixes over matcha8's relabelled
// partner, not over matcha8 again.
TEST(AldsgdTest, DynamicGraphsCycleThroughTheCopies) {
  const Topology topology = MakeTopology(Matcha8Graph(), Scheme::kStatic, 1.0, /*copies=*/2);
  ASSERT_NE(topology.MixingMatrixAt(0), topology.MixingMatrixAt(1));
  GossipCase test_case = ReferenceCase(topology, Coefficients(0, 0, 0, 0));
  test_case.steps = 2;
  for (const auto& [name, make] : {std::pair<const char*, testing::MakeAlgorithm>{"aldsgd", MakeAldsgd},
                                   {"dpsgd", MakeDpsgd}}) {
    absl::StatusOr<GossipRun> run = RunGossip(make, test_case);
    ASSERT_TRUE(run.ok()) << name << ": " << run.status();
    for (int step = 0; step < 2; ++step) {
      Eigen::VectorXd x(8);
      for (int rank = 0; rank < 8; ++rank) x(rank) = run->history[step][rank][0];
      const Eigen::VectorXd expected = topology.MixingMatrixAt(step) * x;
      for (int rank = 0; rank < 8; ++rank) {
        EXPECT_NEAR(run->history[step + 1][rank][0], expected(rank), 1e-5)
            << name << ", step " << step;
      }
    }
  }
}

// The code form's x_i after one step with zero gradients, from this step's neighbourhoods
// alone: N = argmin loss and tau = argmax degree over C_i (ties: self, then exchange order),
// where a member's degree is `degree_of(member)`; then x = (1 − p1 − p2)·z + p1·y_N + p2·y_tau
// with z = (1 − c1 − c2)·z0 + c1·y_N + c2·y_tau and z0 = W's row applied to y.
double CodeFormByHand(const Neighborhood& mine, int self, const std::vector<float>& y,
                      const std::function<int(int rank)>& degree_of) {
  const double c1 = 0.3, c2 = 0.1, p1 = 0.2, p2 = 0.2;
  std::vector<int> members = {self};
  for (const ActiveNeighbor& neighbor : mine.neighbors) members.push_back(neighbor.rank);
  int leader = self, max_degree = self;
  for (int member : members) {
    if (kLosses[member] < kLosses[leader]) leader = member;
    if (degree_of(member) > degree_of(max_degree)) max_degree = member;
  }
  double z0 = mine.self_weight * y[self];
  for (const ActiveNeighbor& neighbor : mine.neighbors) z0 += neighbor.weight * y[neighbor.rank];
  const double z = (1 - c1 - c2) * z0 + c1 * y[leader] + c2 * y[max_degree];
  return (1 - p1 - p2) * z + p1 * y[leader] + p2 * y[max_degree];
}

// Over MATCHA only some matchings are active in a step, so a worker's active degree d_i(k)
// differs from its degree in the base graph; the max-degree neighbour follows the active
// degree. Runs the real algorithm for several sampled steps and checks every transition, and
// that the base-graph degree would have given a different answer somewhere (else this test
// could not tell the two apart).
TEST(AldsgdTest, MaxDegreeNeighbourFollowsTheActiveDegree) {
  const Topology topology = MakeTopology(Matcha8Graph(), Scheme::kMatcha, 0.5);
  GossipCase test_case = ReferenceCase(topology, Coefficients(0.3, 0.1, 0.2, 0.2));
  test_case.steps = 12;
  const absl::StatusOr<GossipRun> run = RunGossip(MakeAldsgd, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  int told_apart = 0;
  for (int step = 0; step < test_case.steps; ++step) {
    std::vector<float> y(8);
    for (int rank = 0; rank < 8; ++rank) y[rank] = run->history[step][rank][0];
    std::vector<Neighborhood> neighborhoods;
    for (int rank = 0; rank < 8; ++rank) {
      absl::StatusOr<Neighborhood> neighborhood = topology.NeighborhoodAt(step, rank);
      ASSERT_TRUE(neighborhood.ok()) << neighborhood.status();
      neighborhoods.push_back(*neighborhood);
    }
    for (int rank = 0; rank < 8; ++rank) {
      const Neighborhood& mine = neighborhoods[rank];
      if (mine.degree() == 0) {
        EXPECT_EQ(run->history[step + 1][rank][0], y[rank]) << "step " << step;
        continue;
      }
      const double active = CodeFormByHand(
          mine, rank, y, [&](int member) { return neighborhoods[member].degree(); });
      const double base = CodeFormByHand(
          mine, rank, y, [&](int member) { return topology.graph(0).degree(member); });
      EXPECT_NEAR(run->history[step + 1][rank][0], active, 1e-5)
          << "step " << step << ", rank " << rank;
      told_apart += std::abs(active - base) > 1e-3;
    }
  }
  EXPECT_GT(told_apart, 0) << "no step where active and base-graph degrees pick differently";
}

// The paper form pulls toward the neighbours' PRE-step models x_N, x_tau inside the local step:
// y_i = x_i − γ·g_i − γ·p1·(x_i − x_N) − γ·p2·(x_i − x_tau). With non-zero gradients the
// neighbours' post-step models differ from their pre-step ones, so pulling toward those fails.
TEST(AldsgdTest, PaperFormPullsTowardPreStepModels) {
  const Topology topology = MakeTopology(Matcha8Graph(), Scheme::kStatic, 1.0);
  const double c1 = 0.3, c2 = 0.1, p1 = 0.2, p2 = 0.2, lr = 0.5;
  GossipCase test_case =
      ReferenceCase(topology, Coefficients(c1, c2, p1, p2, AldsgdForm::kPaper));
  // g_i = x_i − (10 − i): a different pull on every worker, so x and y differ.
  test_case.gradient = [](int rank, std::span<const float> x, std::span<float> grads) {
    for (size_t k = 0; k < x.size(); ++k) grads[k] = x[k] - (10.0f - static_cast<float>(rank));
  };
  const absl::StatusOr<GossipRun> run = RunGossip(MakeAldsgd, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<double> x(8), sgd(8);
  for (int rank = 0; rank < 8; ++rank) {
    x[rank] = rank;
    sgd[rank] = x[rank] - lr * (x[rank] - (10.0 - rank));
  }
  std::vector<Neighborhood> neighborhoods;
  for (int rank = 0; rank < 8; ++rank) neighborhoods.push_back(*topology.NeighborhoodAt(0, rank));
  // Leaders as in CodeFormByHand (all matchings active: the degrees are the graph's).
  auto leaders = [&](int self) {
    int leader = self, max_degree = self;
    for (const ActiveNeighbor& neighbor : neighborhoods[self].neighbors) {
      if (kLosses[neighbor.rank] < kLosses[leader]) leader = neighbor.rank;
      if (neighborhoods[neighbor.rank].degree() > neighborhoods[max_degree].degree()) {
        max_degree = neighbor.rank;
      }
    }
    return std::make_pair(leader, max_degree);
  };
  std::vector<double> y(8), y_wrong(8);
  for (int i = 0; i < 8; ++i) {
    const auto [leader, max_degree] = leaders(i);
    const double to_leader = leader != i ? lr * p1 : 0.0;
    const double to_max_degree = max_degree != i ? lr * p2 : 0.0;
    y[i] = sgd[i] - to_leader * (x[i] - x[leader]) - to_max_degree * (x[i] - x[max_degree]);
    y_wrong[i] =
        sgd[i] - to_leader * (x[i] - sgd[leader]) - to_max_degree * (x[i] - sgd[max_degree]);
  }
  int told_apart = 0;
  for (int i = 0; i < 8; ++i) {
    const auto [leader, max_degree] = leaders(i);
    // The combine: W's row, boosted toward N and tau (no pull: it happened in the step).
    auto combine = [&](const std::vector<double>& v) {
      double z0 = neighborhoods[i].self_weight * v[i];
      for (const ActiveNeighbor& neighbor : neighborhoods[i].neighbors) {
        z0 += neighbor.weight * v[neighbor.rank];
      }
      return (1 - c1 - c2) * z0 + c1 * v[leader] + c2 * v[max_degree];
    };
    for (float value : run->final()[i]) EXPECT_NEAR(value, combine(y), 1e-5) << "rank " << i;
    told_apart += std::abs(combine(y) - combine(y_wrong)) > 1e-3;
  }
  EXPECT_GT(told_apart, 0);
}

TEST(AldsgdTest, CodeFormNeedsTheLoss) {
  const Topology topology = MakeTopology(*RingGraph(3), Scheme::kStatic, 1.0);
  const absl::Status status = testing::RunWorkers(3, [&](int, Communicator& comm) -> absl::Status {
    testing::TestWorker worker(std::vector<float>(2, 0.0f), {2});
    absl::StatusOr<std::unique_ptr<Algorithm>> aldsgd =
        MakeAldsgd({&comm, &topology, worker.buffers(), Coefficients(0.3, 0.1, 0.2, 0.2)});
    if (!aldsgd.ok()) return aldsgd.status();
    if (absl::Status s = (*aldsgd)->BeginStep(0, {}); !s.ok()) return s;
    if (absl::Status s = (*aldsgd)->UpdateAndPost(0); !s.ok()) return s;
    return (*aldsgd)->EndStep();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
}

// Where each worker's adjacent and degree leaders are, by hand, from matcha8 with every matching
// active and the given losses: ranks (self first on ties).
std::vector<AldsgdLeaders> LeaderRanksByHand(const std::vector<float>& losses) {
  const NetworkGraph graph = Matcha8Graph();
  std::vector<AldsgdLeaders> result;
  for (int i = 0; i < 8; ++i) {
    std::vector<int> members = {i};
    for (int j : graph.neighbors(i)) members.push_back(j);
    AldsgdLeaders leaders;
    leaders.loss_leader = leaders.max_degree = i;
    for (int m : members) {
      if (losses[m] < losses[leaders.loss_leader]) leaders.loss_leader = m;
      if (graph.degree(m) > graph.degree(leaders.max_degree)) leaders.max_degree = m;
    }
    result.push_back(leaders);
  }
  return result;
}

TEST(AldsgdTest, LeaderDiagnosticsCountChangesAndSelfLeadership) {
  const Topology topology = MakeTopology(Matcha8Graph(), Scheme::kStatic, 1.0);
  GossipCase test_case = ReferenceCase(topology, Coefficients(0.3, 0.1, 0.2, 0.2));
  // Even steps the reference losses, odd steps their mirror: the adjacent leader flips where
  // the lowest and the highest loss of C_i are different workers.
  std::vector<float> mirrored;
  for (float loss : kLosses) mirrored.push_back(1.0f - loss);
  test_case.losses.clear();
  test_case.loss_at = [&](int rank, int step) {
    return step % 2 == 0 ? kLosses[rank] : mirrored[rank];
  };
  test_case.steps = 4;
  absl::StatusOr<GossipRun> run = RunGossip(MakeAldsgd, test_case);
  ASSERT_TRUE(run.ok()) << run.status();
  const std::vector<AldsgdLeaders> even = LeaderRanksByHand(kLosses);
  const std::vector<AldsgdLeaders> odd = LeaderRanksByHand(mirrored);
  int someone_flips = 0;
  for (int i = 0; i < 8; ++i) {
    const LeaderCounts& counts = run->leader_counts[i];
    const bool flips = even[i].loss_leader != odd[i].loss_leader;
    someone_flips += flips;
    EXPECT_EQ(counts.steps, 4) << i;
    EXPECT_EQ(counts.loss_leader_changes, flips ? 3 : 0) << i;
    EXPECT_EQ(counts.degree_leader_changes, 0) << i;  // one graph: the degrees never change
    EXPECT_EQ(counts.own_loss_leader, 2 * (even[i].loss_leader == i) + 2 * (odd[i].loss_leader == i))
        << i;
    EXPECT_EQ(counts.own_degree_leader, 4 * (even[i].max_degree == i)) << i;
  }
  EXPECT_GT(someone_flips, 0);
  EXPECT_EQ(run->leader_counts[1].own_degree_leader, 4);  // degree 5, the maximum
}

// Two workers on one edge. Batch losses: worker 1 leads at step 0 (0.1 < 1.0), worker 0 at
// step 1 (0.0 < 0.2). Averaged with beta = 0.5, worker 0's 0.5 stays above worker 1's 0.15.
TEST(AldsgdTest, LeaderLossByRunningAverageSmoothsTheBatchLoss) {
  const Topology topology = MakeTopology(*RingGraph(2), Scheme::kStatic, 1.0);
  for (double beta : {0.0, 0.5}) {
    GossipCase test_case;
    test_case.topology = &topology;
    test_case.options = Coefficients(0.3, 0.0, 0.2, 0.0);
    test_case.options.leader_loss_beta = beta;
    test_case.bucket_sizes = {1};
    test_case.initial = {{0.0f}, {1.0f}};
    const std::vector<std::vector<float>> losses = {{1.0f, 0.0f}, {0.1f, 0.2f}};
    test_case.loss_at = [&](int rank, int step) { return losses[rank][step]; };
    test_case.steps = 2;
    absl::StatusOr<GossipRun> run = RunGossip(MakeAldsgd, test_case);
    ASSERT_TRUE(run.ok()) << run.status();
    const bool batch = beta == 0.0;
    EXPECT_EQ(run->leader_counts[0].loss_leader_changes, batch ? 1 : 0) << beta;
    EXPECT_EQ(run->leader_counts[0].own_loss_leader, batch ? 1 : 0) << beta;
    EXPECT_EQ(run->leader_counts[1].own_loss_leader, batch ? 1 : 2) << beta;
  }
}

TEST(AldsgdTest, TheRunningAverageIsStateAndItsWeightIsChecked) {
  const Topology topology = MakeTopology(*RingGraph(2), Scheme::kStatic, 1.0);
  GossipCase test_case;
  test_case.topology = &topology;
  test_case.options = Coefficients(0.3, 0.1, 0.2, 0.2);
  test_case.options.leader_loss_beta = 1.0;
  test_case.bucket_sizes = {1};
  test_case.initial = {{0.0f}, {1.0f}};
  absl::StatusOr<GossipRun> run = RunGossip(MakeAldsgd, test_case);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(std::string(run.status().message()).find("must be in [0, 1)"), std::string::npos);
}

}  // namespace
}  // namespace ald
