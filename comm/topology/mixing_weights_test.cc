#include "comm/topology/mixing_weights.h"

#include <cmath>
#include <numbers>

#include "gtest/gtest.h"

namespace ald {
namespace {

std::vector<NetworkGraph> SampleGraphs() {
  return {*RingGraph(8),
          *TorusGraph(16),
          *CompleteGraph(6),
          *StarGraph(5),
          Matcha8Graph(),
          *ErdosRenyiGraph(12, 0.3, 3),
          *RandomRegularGraph(10, 3, 4)};
}

TEST(MixingTest, EveryRuleGivesSymmetricStochasticConvergentW) {
  for (const NetworkGraph& graph : SampleGraphs()) {
    for (WeightRule rule :
         {WeightRule::kBestConstant, WeightRule::kMetropolisHastings, WeightRule::kUniform}) {
      const Eigen::MatrixXd mixing = MixingMatrix(graph, rule);
      EXPECT_TRUE(CheckMixingMatrix(mixing).ok()) << graph.name() << " " << WeightRuleName(rule);
      EXPECT_GT(SpectralGap(mixing), 1e-6) << graph.name() << " " << WeightRuleName(rule);
      // Zero pattern: W_ij != 0 off the diagonal exactly on edges.
      for (int i = 0; i < graph.nodes(); ++i) {
        for (int j = 0; j < graph.nodes(); ++j) {
          if (i != j) {
            EXPECT_EQ(mixing(i, j) != 0.0, graph.HasEdge(i, j));
          }
        }
      }
      if (rule != WeightRule::kBestConstant) {
        EXPECT_TRUE(IsNonnegative(mixing)) << graph.name() << " " << WeightRuleName(rule);
      }
    }
  }
}

TEST(MixingTest, MetropolisHastingsWeights) {
  const NetworkGraph star = *StarGraph(4);
  const Eigen::MatrixXd mixing = MixingMatrix(star, WeightRule::kMetropolisHastings);
  EXPECT_DOUBLE_EQ(mixing(0, 1), 1.0 / 4);  // 1 / (1 + max(3, 1))
  EXPECT_DOUBLE_EQ(mixing(0, 0), 1.0 - 3.0 / 4);
  EXPECT_DOUBLE_EQ(mixing(1, 1), 1.0 - 1.0 / 4);
}

TEST(MixingTest, BestConstantCanHaveNegativeSelfWeightsYetAverages) {
  // star(5): lambda(L) = {0, 1, 1, 1, 5}, alpha = 2/6, centre self-weight 1 - 4/3 < 0.
  const NetworkGraph star = *StarGraph(5);
  EXPECT_NEAR(BestConstantAlpha(Laplacian(star)), 1.0 / 3, 1e-12);
  const Eigen::MatrixXd mixing = MixingMatrix(star, WeightRule::kBestConstant);
  EXPECT_NEAR(mixing(0, 0), -1.0 / 3, 1e-12);
  EXPECT_FALSE(IsNonnegative(mixing));
  EXPECT_TRUE(CheckMixingMatrix(mixing).ok());
}

TEST(MixingTest, RingSpectrumIsKnown) {
  // lambda_k(L) = 2 - 2 cos(2 pi k / n) for the n-ring.
  const Eigen::VectorXd eigenvalues = SymmetricEigenvalues(Laplacian(*RingGraph(8)));
  const double lambda2 = 2 - 2 * std::cos(2 * std::numbers::pi / 8);
  EXPECT_NEAR(eigenvalues(0), 0.0, 1e-12);
  EXPECT_NEAR(eigenvalues(1), lambda2, 1e-12);
  EXPECT_NEAR(eigenvalues(7), 4.0, 1e-12);
  EXPECT_NEAR(AlgebraicConnectivity(Laplacian(*RingGraph(8))), lambda2, 1e-12);
  const double alpha = 2 / (lambda2 + 4);
  EXPECT_NEAR(BestConstantAlpha(Laplacian(*RingGraph(8))), alpha, 1e-12);
  // With the best constant, mu_2 = 1 - alpha lambda_2 = -mu_n, so the gap is alpha lambda_2.
  EXPECT_NEAR(SpectralGap(MixingMatrix(*RingGraph(8), WeightRule::kBestConstant)), alpha * lambda2,
              1e-12);
}

TEST(MixingTest, SpectralGapIsOneMinusLargestNonPerronModulus) {
  for (const NetworkGraph& graph : SampleGraphs()) {
    const Eigen::MatrixXd mixing = MixingMatrix(graph, WeightRule::kMetropolisHastings);
    const Eigen::VectorXd mu = SymmetricEigenvalues(mixing);  // ascending: mu_n ... mu_1 = 1
    const int n = graph.nodes();
    EXPECT_NEAR(mu(n - 1), 1.0, 1e-12);
    EXPECT_NEAR(SpectralGap(mixing), 1 - std::max(std::abs(mu(n - 2)), std::abs(mu(0))), 1e-12);
  }
}

TEST(MixingTest, BestConstantIsTheBestConstant) {
  for (const NetworkGraph& graph : SampleGraphs()) {
    const Eigen::MatrixXd laplacian = Laplacian(graph);
    const double alpha = BestConstantAlpha(laplacian);
    const int n = graph.nodes();
    auto gap = [&](double a) {
      return SpectralGap(Eigen::MatrixXd::Identity(n, n) - a * laplacian);
    };
    for (double factor : {0.9, 0.99, 1.01, 1.1}) {
      EXPECT_LE(gap(alpha * factor), gap(alpha) + 1e-12) << graph.name();
    }
  }
}

TEST(MixingTest, CompleteGraphUniformWeightsAverageInOneStep) {
  const int n = 7;
  const Eigen::MatrixXd mixing = MixingMatrix(*CompleteGraph(n), WeightRule::kUniform);
  Eigen::VectorXd x(n);
  x << 3, -1, 4, 1, -5, 9, 2.5;
  const Eigen::VectorXd mixed = mixing * x;
  // Every entry of W is 1/7 (rounded once), so W x equals the mean up to a few ulps.
  for (int i = 0; i < n; ++i) EXPECT_NEAR(mixed(i), x.mean(), 1e-14);
  EXPECT_NEAR(SpectralGap(mixing), 1.0, 1e-12);
}

TEST(MixingTest, CheckRejectsBrokenMatrices) {
  Eigen::MatrixXd mixing = MixingMatrix(*RingGraph(4), WeightRule::kUniform);
  mixing(0, 1) += 0.1;
  mixing(0, 0) -= 0.1;
  absl::Status status = CheckMixingMatrix(mixing);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("not symmetric"), std::string::npos) << status;
  Eigen::MatrixXd scaled = 0.9 * MixingMatrix(*RingGraph(4), WeightRule::kUniform);
  status = CheckMixingMatrix(scaled);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("row 0 sums to 0.9"), std::string::npos) << status;
}

TEST(MixingTest, WeightRuleNamesRoundTrip) {
  for (WeightRule rule :
       {WeightRule::kBestConstant, WeightRule::kMetropolisHastings, WeightRule::kUniform}) {
    EXPECT_EQ(*ParseWeightRule(WeightRuleName(rule)), rule);
  }
  EXPECT_FALSE(ParseWeightRule("max-degree").ok());
}

TEST(MixingTest, SummaryLine) {
  const std::string summary = MixingSummary(*RingGraph(8), WeightRule::kBestConstant);
  EXPECT_EQ(summary.rfind("ring(8): best-constant α=0.436", 0), 0u) << summary;
  EXPECT_NE(summary.find("λ₂(L)=0.585786"), std::string::npos) << summary;
  EXPECT_NE(summary.find("spectral gap=0.255"), std::string::npos) << summary;
  EXPECT_NE(MixingSummary(*StarGraph(5), WeightRule::kBestConstant).find("negative"),
            std::string::npos);
}

}  // namespace
}  // namespace ald
