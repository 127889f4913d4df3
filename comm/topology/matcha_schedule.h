// MATCHA (Wang et al., 2019): split the graph into matchings, activate matching j with
// probability p_j each step so that the expected number of active matchings is a budget c_b * m,
// choosing p to keep the expected graph as well connected as possible and the edge weight alpha
// to make the expected mixing contract fastest.
#pragma once

#include <cstdint>
#include <vector>

#include "Eigen/Dense"
#include "absl/status/statusor.h"
#include "comm/topology/network_graph.h"

namespace ald {

// A proper edge colouring, one matching per colour: the graph's preset matchings if it has them
// (matcha8), else max-degree colours for a bipartite graph (König; an even ring gives 2) and at
// most max-degree + 1 for any other (Misra & Gries 1992). Edges inside a matching are sorted.
absl::StatusOr<std::vector<Matching>> DecomposeIntoMatchings(const NetworkGraph& graph);

// The Laplacians L_j of the matchings, on `nodes` ranks.
std::vector<Eigen::MatrixXd> MatchingLaplacians(int nodes, const std::vector<Matching>& matchings);

// p maximising lambda_2(sum_j p_j L_j) subject to sum_j p_j <= budget * m and 0 <= p_j <= 1,
// for a budget in (0, 1]. A budget of 1 gives every p_j = 1.
absl::StatusOr<std::vector<double>> ActivationProbabilities(
    const std::vector<Eigen::MatrixXd>& laplacians, double budget);

// rho(alpha) = ||I - 2 alpha Lbar + alpha^2 (Lbar^2 + 2 Ltilde) - J||_2 with Lbar = sum p_j L_j,
// Ltilde = sum p_j (1 - p_j) L_j: the factor by which one random step of x <- (I - alpha L(t)) x
// shrinks the expected squared distance to the average (in the worst direction).
double ExpectedContraction(const std::vector<Eigen::MatrixXd>& laplacians,
                           const std::vector<double>& probabilities, double alpha);

struct MixingWeight {
  double alpha = 0.0;
  double rho = 1.0;
};
// The alpha minimising ExpectedContraction (convex in alpha): coarse scan, then golden section.
MixingWeight OptimalMixingWeight(const std::vector<Eigen::MatrixXd>& laplacians,
                                 const std::vector<double>& probabilities);

// Everything MATCHA decides once, before training.
struct MatchaPlan {
  std::vector<Matching> matchings;
  std::vector<double> probabilities;  // p_j, one per matching
  double budget = 1.0;                // c_b
  double lambda2 = 0.0;               // lambda_2(Lbar), the expected graph's connectivity
  double alpha = 0.0;                 // the edge weight of every active edge
  double rho = 1.0;                   // ExpectedContraction at alpha
};
absl::StatusOr<MatchaPlan> PlanMatcha(const NetworkGraph& graph, double budget);

// The indices (ascending) of the matchings active at `step`: matching j is active when the j-th
// uniform draw of Rng(seed, stream, step, kTopology) is below p_j. Every worker calling with the
// same arguments gets the same set, with no messages. `stream` separates independent schedules
// (AL-DSGD's graph copies). Steps wrap at 2^32.
std::vector<int> SampleActiveMatchings(const std::vector<double>& probabilities, uint64_t seed,
                                       uint32_t stream, int64_t step);

}  // namespace ald
