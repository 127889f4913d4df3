// Mixing matrices W (one gossip step is x <- W x) for a communication graph, and the spectral
// quantities that say how fast repeated mixing reaches the average.
#pragma once

#include <string>
#include <vector>

#include "Eigen/Dense"
#include "absl/status/statusor.h"
#include "comm/topology/network_graph.h"

namespace ald {

// How the weight of an edge is chosen. Every rule gives W = I - sum_e w_e L_e, which is symmetric
// with rows summing to 1 by construction.
enum class WeightRule {
  kBestConstant,        // w_e = alpha = 2 / (lambda_2(L) + lambda_n(L)) (Xiao & Boyd 2004)
  kMetropolisHastings,  // w_uv = 1 / (1 + max(d_u, d_v))
  kUniform,             // w_e = 1 / (max degree + 1)
};

// "best-constant" | "metropolis-hastings" | "uniform".
absl::StatusOr<WeightRule> ParseWeightRule(const std::string& name);
const char* WeightRuleName(WeightRule rule);

// L = sum over edges (u, v) of (e_u - e_v)(e_u - e_v)^T, on `nodes` ranks.
Eigen::MatrixXd EdgeLaplacian(int nodes, const std::vector<Edge>& edges);
Eigen::MatrixXd Laplacian(const NetworkGraph& graph);

// Eigenvalues of a symmetric matrix, ascending.
Eigen::VectorXd SymmetricEigenvalues(const Eigen::MatrixXd& matrix);

// lambda_2 of a Laplacian (algebraic connectivity; 0 for one node).
double AlgebraicConnectivity(const Eigen::MatrixXd& laplacian);

// 2 / (lambda_2 + lambda_n): the constant edge weight minimising ||I - alpha L - J||_2. It can
// make a self-weight negative (star(5): 1 - 4 * 2/6 < 0); W still averages, just not convexly.
// For a disconnected graph (one of a pair connected only in union) lambda_2 is 0, and the
// weight that contracts fastest within its components uses the smallest nonzero eigenvalue
// instead (for a connected graph that is lambda_2: the same value).
double BestConstantAlpha(const Eigen::MatrixXd& laplacian);

// The weight of each edge of graph.edges(), in that order.
std::vector<double> EdgeWeights(const NetworkGraph& graph, WeightRule rule);

// W = I - sum_e w_e L_e for edges[e] with weight weights[e].
Eigen::MatrixXd MixingMatrixFromEdgeWeights(int nodes, const std::vector<Edge>& edges,
                                            const std::vector<double>& weights);
Eigen::MatrixXd MixingMatrix(const NetworkGraph& graph, WeightRule rule);

// OK when W is symmetric and its rows (hence columns) sum to 1 within `tolerance`: the
// conditions for x <- W x to keep the average. Entries may be negative (see BestConstantAlpha);
// IsNonnegative says whether W is doubly stochastic in the strict sense as well.
absl::Status CheckMixingMatrix(const Eigen::MatrixXd& mixing, double tolerance = 1e-9);
bool IsNonnegative(const Eigen::MatrixXd& mixing);

// 1 - max(|mu_2|, |mu_n|) for the eigenvalues 1 = mu_1 >= mu_2 >= ... >= mu_n of a symmetric W
// with W 1 = 1, computed as 1 - ||W - 11^T/n||_2. Positive iff repeated mixing converges to the
// average; the distance to it shrinks by a factor (1 - gap) per step.
double SpectralGap(const Eigen::MatrixXd& mixing);

// One line for the training binary, e.g.
// "ring(8): best-constant α=0.436…, λ₂(L)=0.585786, spectral gap=0.…".
std::string MixingSummary(const NetworkGraph& graph, WeightRule rule);

}  // namespace ald
