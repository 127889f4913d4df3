#include "comm/topology/mixing_weights.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ald {

absl::StatusOr<WeightRule> ParseWeightRule(const std::string& name) {
  for (WeightRule rule :
       {WeightRule::kBestConstant, WeightRule::kMetropolisHastings, WeightRule::kUniform}) {
    if (name == WeightRuleName(rule)) return rule;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown weight rule '", name, "'; expected best-constant, metropolis-hastings or uniform"));
}

const char* WeightRuleName(WeightRule rule) {
  switch (rule) {
    case WeightRule::kBestConstant:
      return "best-constant";
    case WeightRule::kMetropolisHastings:
      return "metropolis-hastings";
    case WeightRule::kUniform:
      return "uniform";
  }
  return "?";
}

Eigen::MatrixXd EdgeLaplacian(int nodes, const std::vector<Edge>& edges) {
  Eigen::MatrixXd laplacian = Eigen::MatrixXd::Zero(nodes, nodes);
  for (const Edge& e : edges) {
    laplacian(e.u, e.u) += 1.0;
    laplacian(e.v, e.v) += 1.0;
    laplacian(e.u, e.v) -= 1.0;
    laplacian(e.v, e.u) -= 1.0;
  }
  return laplacian;
}

Eigen::MatrixXd Laplacian(const NetworkGraph& graph) {
  return EdgeLaplacian(graph.nodes(), graph.edges());
}

Eigen::VectorXd SymmetricEigenvalues(const Eigen::MatrixXd& matrix) {
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(matrix, Eigen::EigenvaluesOnly)
      .eigenvalues();
}

double AlgebraicConnectivity(const Eigen::MatrixXd& laplacian) {
  if (laplacian.rows() < 2) return 0.0;
  return SymmetricEigenvalues(laplacian)(1);
}

double BestConstantAlpha(const Eigen::MatrixXd& laplacian) {
  if (laplacian.rows() < 2) return 0.0;
  const Eigen::VectorXd eigenvalues = SymmetricEigenvalues(laplacian);
  const double largest = eigenvalues(eigenvalues.size() - 1);
  // Laplacian eigenvalues are >= 0; a component's zero comes out as rounding noise.
  const double zero = 1e-9 * std::max(1.0, largest);
  if (largest <= zero) return 0.0;  // no edges: nothing to weigh
  Eigen::Index smallest_nonzero = 1;
  while (smallest_nonzero + 1 < eigenvalues.size() && eigenvalues(smallest_nonzero) <= zero) {
    ++smallest_nonzero;
  }
  return 2.0 / (eigenvalues(smallest_nonzero) + largest);
}

std::vector<double> EdgeWeights(const NetworkGraph& graph, WeightRule rule) {
  std::vector<double> weights;
  const double alpha = rule == WeightRule::kBestConstant ? BestConstantAlpha(Laplacian(graph)) : 0;
  for (const Edge& e : graph.edges()) {
    switch (rule) {
      case WeightRule::kBestConstant:
        weights.push_back(alpha);
        break;
      case WeightRule::kMetropolisHastings:
        weights.push_back(1.0 / (1 + std::max(graph.degree(e.u), graph.degree(e.v))));
        break;
      case WeightRule::kUniform:
        weights.push_back(1.0 / (graph.max_degree() + 1));
        break;
    }
  }
  return weights;
}

Eigen::MatrixXd MixingMatrixFromEdgeWeights(int nodes, const std::vector<Edge>& edges,
                                            const std::vector<double>& weights) {
  Eigen::MatrixXd mixing = Eigen::MatrixXd::Identity(nodes, nodes);
  for (size_t i = 0; i < edges.size(); ++i) {
    const Edge& e = edges[i];
    mixing(e.u, e.u) -= weights[i];
    mixing(e.v, e.v) -= weights[i];
    mixing(e.u, e.v) += weights[i];
    mixing(e.v, e.u) += weights[i];
  }
  return mixing;
}

Eigen::MatrixXd MixingMatrix(const NetworkGraph& graph, WeightRule rule) {
  return MixingMatrixFromEdgeWeights(graph.nodes(), graph.edges(), EdgeWeights(graph, rule));
}

absl::Status CheckMixingMatrix(const Eigen::MatrixXd& mixing, double tolerance) {
  if (mixing.rows() != mixing.cols()) {
    return absl::InvalidArgumentError(
        absl::StrCat("mixing matrix is ", mixing.rows(), "x", mixing.cols(), ", not square"));
  }
  for (Eigen::Index i = 0; i < mixing.rows(); ++i) {
    for (Eigen::Index j = 0; j < i; ++j) {
      if (std::abs(mixing(i, j) - mixing(j, i)) > tolerance) {
        return absl::InvalidArgumentError(
            absl::StrFormat("mixing matrix is not symmetric: W(%d,%d) = %g but W(%d,%d) = %g", i, j,
                            mixing(i, j), j, i, mixing(j, i)));
      }
    }
    const double row_sum = mixing.row(i).sum();
    if (std::abs(row_sum - 1.0) > tolerance) {
      return absl::InvalidArgumentError(
          absl::StrFormat("mixing matrix row %d sums to %.12g, not 1", i, row_sum));
    }
  }
  return absl::OkStatus();
}

bool IsNonnegative(const Eigen::MatrixXd& mixing) { return mixing.minCoeff() >= 0.0; }

double SpectralGap(const Eigen::MatrixXd& mixing) {
  const Eigen::Index n = mixing.rows();
  const Eigen::MatrixXd deviation =
      mixing - Eigen::MatrixXd::Constant(n, n, 1.0 / static_cast<double>(n));
  return 1.0 - SymmetricEigenvalues(deviation).cwiseAbs().maxCoeff();
}

std::string MixingSummary(const NetworkGraph& graph, WeightRule rule) {
  const Eigen::MatrixXd laplacian = Laplacian(graph);
  const Eigen::MatrixXd mixing = MixingMatrix(graph, rule);
  std::string weights;
  switch (rule) {
    case WeightRule::kBestConstant:
      weights = absl::StrFormat("best-constant α=%.6g", BestConstantAlpha(laplacian));
      break;
    case WeightRule::kMetropolisHastings:
      weights = "metropolis-hastings weights";
      break;
    case WeightRule::kUniform:
      weights = absl::StrFormat("uniform weight 1/(Δ+1)=%.6g", 1.0 / (graph.max_degree() + 1));
      break;
  }
  return absl::StrFormat("%s: %s, λ₂(L)=%.6g, spectral gap=%.6g%s", graph.name(), weights,
                         AlgebraicConnectivity(laplacian), SpectralGap(mixing),
                         IsNonnegative(mixing) ? "" : " (some self-weights are negative)");
}

}  // namespace ald
