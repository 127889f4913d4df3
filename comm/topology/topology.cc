#include "comm/topology/topology.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "comm/topology/matcha8_sparse.h"
#include "core/rng.h"
#include "core/status.h"

namespace ald {
namespace {

// The relabelling search draws under its own worker index (MATCHA sampling uses worker = copy).
constexpr uint32_t kRelabellingWorker = 0xfffffffeu;
constexpr int kRestarts = 4;
constexpr int kSwapsPerRestart = 4000;

// How many edges of `base`, renamed by `permutation`, are not yet in `covered` (n x n).
int NewPairs(const NetworkGraph& base, const std::vector<int>& permutation,
             const std::vector<std::vector<bool>>& covered) {
  int count = 0;
  for (const Edge& e : base.edges()) count += !covered[permutation[e.u]][permutation[e.v]];
  return count;
}

// A permutation maximising NewPairs: random restarts, then random transpositions kept when
// they do not lose (sideways moves cross plateaus).
std::vector<int> SearchRelabelling(const NetworkGraph& base, const std::vector<std::vector<bool>>& covered,
                                   uint64_t seed, int copy) {
  const int n = base.nodes();
  std::vector<int> best(n);
  std::iota(best.begin(), best.end(), 0);
  int best_score = NewPairs(base, best, covered);
  for (int restart = 0; restart < kRestarts && best_score < base.num_edges(); ++restart) {
    Rng rng(seed, kRelabellingWorker, static_cast<uint32_t>(copy * kRestarts + restart),
            RngStream::kTopology);
    std::vector<int> permutation(n);
    std::iota(permutation.begin(), permutation.end(), 0);
    for (int i = n - 1; i > 0; --i) std::swap(permutation[i], permutation[rng.Below(i + 1)]);
    int score = NewPairs(base, permutation, covered);
    for (int swap = 0; swap < kSwapsPerRestart && score < base.num_edges() && n > 1; ++swap) {
      const int a = static_cast<int>(rng.Below(n)), b = static_cast<int>(rng.Below(n));
      std::swap(permutation[a], permutation[b]);
      const int candidate = NewPairs(base, permutation, covered);
      if (candidate >= score) {
        score = candidate;
      } else {
        std::swap(permutation[a], permutation[b]);
      }
    }
    if (score > best_score) best_score = score, best = permutation;
  }
  return best;
}

// The matchings the alternating schedule ever activates: 0 and 1 (0 alone when there is one).
constexpr size_t kAlternatingMatchings = 2;

// The matching the alternating schedule activates at `step` with `copies` copies of a graph with
// `matchings` matchings: the authors keep one activation counter per graph copy, so the copy's
// own count of steps, step / copies, alternates 1, 0, 1, 0, ...
int AlternatingMatching(int64_t step, int copies, size_t matchings) {
  const int64_t uses = step / copies;
  return static_cast<int>((uses + 1) % static_cast<int64_t>(std::min(matchings, kAlternatingMatchings)));
}

std::string FormatProbabilities(const std::vector<double>& probabilities) {
  std::vector<std::string> shown;
  for (double p : probabilities) shown.push_back(absl::StrFormat("%.3g", p));
  return absl::StrCat("[", absl::StrJoin(shown, ", "), "]");
}

}  // namespace

int CoveredPairs(const std::vector<NetworkGraph>& graphs) {
  std::vector<Edge> all;
  for (const NetworkGraph& graph : graphs) {
    all.insert(all.end(), graph.edges().begin(), graph.edges().end());
  }
  std::sort(all.begin(), all.end());
  return static_cast<int>(std::unique(all.begin(), all.end()) - all.begin());
}

absl::StatusOr<std::vector<NetworkGraph>> RelabelledCopies(const NetworkGraph& base, int copies, uint64_t seed) {
  if (copies < 1) {
    return absl::InvalidArgumentError(absl::StrCat("need at least 1 graph copy, got ", copies));
  }
  const int n = base.nodes();
  std::vector<std::vector<bool>> covered(n, std::vector<bool>(n, false));
  auto cover = [&covered](const NetworkGraph& graph) {
    for (const Edge& e : graph.edges()) covered[e.u][e.v] = covered[e.v][e.u] = true;
  };
  std::vector<NetworkGraph> result{base};
  cover(base);
  for (int copy = 1; copy < copies; ++copy) {
    const std::string name = absl::StrCat(base.name(), "/copy", copy);
    // matcha8 and its sparser versions: the authors' own second graph.
    std::optional<NetworkGraph> authors = copy == 1 ? Matcha8SparsePartner(base, name) : std::nullopt;
    if (!authors) {
      ASSIGN_OR_RETURN(authors,
                       base.Relabelled(SearchRelabelling(base, covered, seed, copy), name));
    }
    NetworkGraph graph = *std::move(authors);
    cover(graph);
    result.push_back(std::move(graph));
  }
  return result;
}

absl::StatusOr<Topology> Topology::Create(const NetworkGraph& base, const TopologyOptions& options) {
  if (options.scheme == Scheme::kMatcha && options.weights != WeightRule::kBestConstant) {
    return absl::InvalidArgumentError(
        absl::StrCat("MATCHA weighs every active edge by its optimised alpha; weight rule ",
                     WeightRuleName(options.weights), " applies only to the static scheme"));
  }
  if (options.scheme == Scheme::kMatcha && options.schedule != StaticSchedule::kAll) {
    return absl::InvalidArgumentError(
        "MATCHA samples its matchings; the alternating schedule applies only to the static scheme");
  }
  if (options.scheme == Scheme::kMatcha && !base.connected()) {
    // Its probabilities maximise each copy's lambda_2, which is 0 for every p on such a graph.
    return absl::InvalidArgumentError(absl::StrCat(
        base.name(), " is disconnected on its own, and MATCHA plans each graph copy by its "
        "connectivity, which is 0 there: use the static scheme (D-PSGD, or AL-DSGD over D-PSGD)"));
  }
  ASSIGN_OR_RETURN(std::vector<NetworkGraph> graphs, RelabelledCopies(base, options.copies, options.seed));
  std::vector<Copy> copies;
  std::vector<Edge> expected_union;  // edges whose matching has p_j > 0, over all copies
  for (NetworkGraph& graph : graphs) {
    const int n = graph.nodes();
    MatchaPlan plan;
    std::vector<double> edge_weights;  // aligned with graph.edges()
    if (options.scheme == Scheme::kMatcha) {
      ASSIGN_OR_RETURN(plan, PlanMatcha(graph, options.budget));
      edge_weights.assign(graph.num_edges(), plan.alpha);
    } else {
      ASSIGN_OR_RETURN(plan.matchings, DecomposeIntoMatchings(graph));
      plan.probabilities.assign(plan.matchings.size(), 1.0);
      const Eigen::MatrixXd laplacian = Laplacian(graph);
      plan.lambda2 = AlgebraicConnectivity(laplacian);
      plan.alpha = options.weights == WeightRule::kBestConstant ? BestConstantAlpha(laplacian) : 0;
      edge_weights = EdgeWeights(graph, options.weights);
      const Eigen::MatrixXd mixing = MixingMatrixFromEdgeWeights(n, graph.edges(), edge_weights);
      RETURN_IF_ERROR(CheckMixingMatrix(mixing));
      // Same meaning as MATCHA's rho: ||E[W^2] - J||_2, here (1 - spectral gap)^2.
      plan.rho = (1.0 - SpectralGap(mixing)) * (1.0 - SpectralGap(mixing));
    }
    Copy copy{std::move(graph), std::move(plan), {}, {}};
    const size_t ever_active = options.schedule == StaticSchedule::kAlternate
                                   ? kAlternatingMatchings
                                   : copy.plan.matchings.size();
    for (size_t j = 0; j < copy.plan.matchings.size(); ++j) {
      copy.partner.emplace_back(n, -1);
      copy.weight.emplace_back(n, 0.0);
      for (const Edge& e : copy.plan.matchings[j]) {
        const auto found =
            std::lower_bound(copy.graph.edges().begin(), copy.graph.edges().end(), e);
        const double w = edge_weights[found - copy.graph.edges().begin()];
        copy.partner[j][e.u] = e.v;
        copy.partner[j][e.v] = e.u;
        copy.weight[j][e.u] = copy.weight[j][e.v] = w;
        if (copy.plan.probabilities[j] > 0.0 && j < ever_active) expected_union.push_back(e);
      }
    }
    copies.push_back(std::move(copy));
  }
  absl::Status connected = CheckConnected(base.nodes(), expected_union);
  if (!connected.ok()) {
    const bool alternating = options.schedule == StaticSchedule::kAlternate;
    return absl::InvalidArgumentError(absl::StrCat(
        base.name(), ": over a period of ", alternating ? 2 * options.copies : options.copies,
        " steps the expected communication graph is never connected",
        alternating ? " (the alternating schedule activates only matchings 0 and 1)" : "",
        !base.connected() && options.copies == 1
            ? " (this graph is connected only in union with its partner: use 2 graph copies, "
              "--graphs=2)"
            : "",
        ": ", connected.message()));
  }
  return Topology(options, std::move(copies));
}

std::vector<int> Topology::ActiveMatchings(int64_t step) const {
  const int copy = CopyAt(step);
  const std::vector<double>& probabilities = copies_[copy].plan.probabilities;
  if (options_.scheme == Scheme::kStatic && options_.schedule == StaticSchedule::kAlternate) {
    return {AlternatingMatching(step, num_copies(), probabilities.size())};
  }
  if (options_.scheme == Scheme::kStatic) {
    std::vector<int> all(probabilities.size());
    std::iota(all.begin(), all.end(), 0);
    return all;
  }
  return SampleActiveMatchings(probabilities, options_.seed, static_cast<uint32_t>(copy), step);
}

absl::StatusOr<Neighborhood> Topology::NeighborhoodAt(int64_t step, int worker) const {
  if (step < 0 || worker < 0 || worker >= nodes()) {
    return absl::InvalidArgumentError(absl::StrCat("no neighbourhood for step ", step, ", worker ",
                                                   worker, " (", nodes(), " workers)"));
  }
  Neighborhood result;
  result.copy = CopyAt(step);
  result.active_matchings = ActiveMatchings(step);
  const Copy& copy = copies_[result.copy];
  for (int j : result.active_matchings) {
    const int partner = copy.partner[j][worker];
    if (partner < 0) continue;
    result.neighbors.push_back({partner, copy.weight[j][worker], j});
    result.self_weight -= copy.weight[j][worker];
  }
  return result;
}

std::vector<int> Topology::ActiveDegrees(int64_t step) const {
  const Copy& copy = copies_[CopyAt(step)];
  std::vector<int> degrees(nodes(), 0);
  for (int j : ActiveMatchings(step)) {
    for (const Edge& e : copy.plan.matchings[j]) ++degrees[e.u], ++degrees[e.v];
  }
  return degrees;
}

Eigen::MatrixXd Topology::MixingMatrixAt(int64_t step) const {
  const Copy& copy = copies_[CopyAt(step)];
  std::vector<Edge> edges;
  std::vector<double> weights;
  for (int j : ActiveMatchings(step)) {
    for (const Edge& e : copy.plan.matchings[j]) {
      edges.push_back(e);
      weights.push_back(copy.weight[j][e.u]);
    }
  }
  return MixingMatrixFromEdgeWeights(nodes(), edges, weights);
}

std::string Topology::Describe() const {
  const Copy& first = copies_.front();
  std::string line;
  if (options_.scheme == Scheme::kStatic) {
    line = absl::StrCat(MixingSummary(first.graph, options_.weights),
                        options_.schedule == StaticSchedule::kAlternate
                            ? "; static, alternating: one matching per step (1, 0, 1, ... on each "
                              "copy), as the authors' D-PSGD"
                            : absl::StrCat("; static: all ", first.plan.matchings.size(),
                                           " matchings every step"));
  } else {
    line =
        absl::StrFormat("%s: MATCHA c_b=%.3g over %d matchings, p=%s, α=%.4f, λ₂(L̄)=%.4f, ρ=%.4f",
                        first.graph.name(), options_.budget, first.plan.matchings.size(),
                        FormatProbabilities(first.plan.probabilities), first.plan.alpha,
                        first.plan.lambda2, first.plan.rho);
  }
  if (num_copies() > 1) {
    std::vector<NetworkGraph> graphs;
    for (const Copy& copy : copies_) graphs.push_back(copy.graph);
    const int n = nodes();
    absl::StrAppend(&line, "; ", num_copies(), " relabelled graph copies (step t uses copy t mod ",
                    num_copies(), ") covering ", CoveredPairs(graphs), " of ", n * (n - 1) / 2,
                    " node pairs");
  }
  return line;
}

}  // namespace ald
